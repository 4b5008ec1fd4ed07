"""A programme of new centres across corridors: which sites, in what order, with which bases.

Ministries and development banks plan centres as a programme that spans corridors (the
China - Pakistan emergency care programme along CPEC began in Gwadar in 2017). A
programme file (``data/programmes/<id>.toml``) names the corridors, how many centres, the
service, the access threshold and the ambulance response time. From it:

- **Sites.** For each corridor and each number of centres ``k`` it could take, the exact
  maximal covering problem (:class:`~corridor_planner.siting.MaxCoverage`) gives the most
  people newly within the threshold; the corridors' populations are disjoint, so a small
  dynamic programme over the corridors splits the centres between them optimally.
- **Order.** The chosen centres are phased by the people each newly covers, largest
  first (each corridor's own rank order kept), so every phase says what it adds.
- **Ambulance bases.** As many bases as centres in each corridor, chosen among its
  settlements and facilities by the exact maximal covering problem on the main roads:
  each motorway, trunk and primary road is cut into pieces of at most ``ROAD_PIECE_KM``
  and a base covers a piece it reaches within the response time (profile ``ambulance``).
  Each base brings patients to the emergency destination it reaches first once the
  programme is built. No bundle records today's ambulance stations, so bases are placed
  as if there were none; the result says so.

This answers the planner's question from need. It is not the programme's official list of
sites, which no source gives (see the programme file's ``source``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from corridor_planner import settings
from corridor_planner.access import offering, settlements_on_network
from corridor_planner.coverage import within
from corridor_planner.errors import DataError, NotFoundError, Problem
from corridor_planner.network import CorridorNetwork
from corridor_planner.scoring import candidates_for, score_sites
from corridor_planner.siting import MaxCoverage
from corridor_planner.traveltimes import CorridorTravelTimes

#: Road classes an ambulance base must cover (where crashes and emergencies on the way are).
MAIN_ROADS = frozenset({"motorway", "trunk", "primary"})
#: Longest piece of main road judged as one demand point (km).
ROAD_PIECE_KM = 1.0
PROGRAMMES_DIR = settings.PROGRAMMES_DIR
PROGRAMME_KEYS = {
    "id",
    "name",
    "corridors",
    "centres",
    "service",
    "threshold_minutes",
    "ambulance_minutes",
    "scenario",
    "source",
}


@dataclass(frozen=True)
class ProgrammeSpec:
    """A programme file: what to plan where."""

    id: str
    name: str
    corridors: tuple[str, ...]
    centres: int
    service: str
    threshold_min: float
    ambulance_min: float
    scenario: str
    source: str


@dataclass
class Centre:
    """One centre of the programme, in its phase."""

    phase: int
    corridor: str
    site_id: str
    site: str
    country: str
    newly_covered: float
    covered_after: float
    ambulance_bases: list[str] = field(default_factory=list)


@dataclass
class AmbulanceBase:
    """One ambulance base: where it stands and which destination it brings patients to."""

    corridor: str
    place: str
    road_km_newly_covered: float
    brings_patients_to: str
    minutes_to_destination: float


@dataclass
class Programme:
    """The planned programme, with what it covers and what it leaves out."""

    spec: ProgrammeSpec
    centres: list[Centre]
    bases: list[AmbulanceBase]
    population: float
    covered_before: float
    covered_after: float
    road_km: float
    road_km_covered: float
    per_corridor: list[dict[str, Any]]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "programme": self.spec.__dict__ | {"corridors": list(self.spec.corridors)},
            "centres": [c.__dict__ for c in self.centres],
            "ambulance_bases": [b.__dict__ for b in self.bases],
            "population": self.population,
            "covered_before": self.covered_before,
            "covered_after": self.covered_after,
            "road_km": self.road_km,
            "road_km_covered": self.road_km_covered,
            "per_corridor": self.per_corridor,
            "notes": self.notes,
        }


# the programme file ------------------------------------------------------------------------


def load_programme(name_or_path: str | Path) -> ProgrammeSpec:
    """Read and check a programme file (a name in ``data/programmes/`` or a path).

    Raises
    ------
    NotFoundError
        No such programme.
    DataError
        Anything wrong in the file, with its entry and field.
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = PROGRAMMES_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in PROGRAMMES_DIR.glob("*.toml"))
        raise NotFoundError(f"no programme {name_or_path!r} (known: {', '.join(known)})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError([Problem(path.name, "-", "-", f"not valid TOML: {exc}")]) from exc
    problems = [Problem(path.name, "-", key, "unknown key") for key in set(data) - PROGRAMME_KEYS]
    for key in ("id", "name", "service", "scenario", "source"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            problems.append(Problem(path.name, "-", key, "must be a non-empty text"))
    corridors = data.get("corridors")
    if (
        not isinstance(corridors, list)
        or not corridors
        or not all(isinstance(c, str) and c for c in corridors)
    ):
        problems.append(Problem(path.name, "-", "corridors", "must list corridor ids"))
    elif len(set(corridors)) < len(corridors):
        problems.append(Problem(path.name, "-", "corridors", "lists a corridor twice"))
    centres = data.get("centres")
    if isinstance(centres, bool) or not isinstance(centres, int) or not 1 <= centres <= 100:
        problems.append(Problem(path.name, "-", "centres", "must be a whole number, 1 to 100"))
    for key in ("threshold_minutes", "ambulance_minutes"):
        complaint = settings.RANGES["threshold_minutes"].problem(data.get(key))
        if complaint:
            problems.append(Problem(path.name, "-", key, complaint))
    if data.get("service") not in settings.SERVICES:
        problems.append(Problem(path.name, "-", "service", "must be a known service"))
    if problems:
        raise DataError(problems, corridor=path.stem)
    return ProgrammeSpec(
        id=data["id"],
        name=data["name"],
        corridors=tuple(data["corridors"]),
        centres=int(data["centres"]),
        service=data["service"],
        threshold_min=float(data["threshold_minutes"]),
        ambulance_min=float(data["ambulance_minutes"]),
        scenario=data["scenario"],
        source=data["source"],
    )


# planning ------------------------------------------------------------------------------------


def plan_programme(spec: ProgrammeSpec, networks: Sequence[CorridorNetwork]) -> Programme:
    """Choose the programme's sites, their order and their ambulance bases.

    Parameters
    ----------
    spec : ProgrammeSpec
        The programme file.
    networks : sequence of CorridorNetwork
        The built corridors, in the order of ``spec.corridors``.
    """
    times = [
        CorridorTravelTimes(n, "citizen", n.corridor.scenario(spec.scenario)) for n in networks
    ]
    curves = [coverage_curve(t, spec.service, spec.threshold_min, spec.centres) for t in times]
    split = split_centres([[c.covered for c in curve] for curve in curves], spec.centres)
    chosen = [curve[k] for curve, k in zip(curves, split, strict=True)]
    centres = _phases(chosen)
    bases = []
    for network, choice in zip(networks, chosen, strict=True):
        if choice.site_ids:
            bases += _place_bases(network, spec, choice, centres)
    road_km = sum(_main_road_km(n) for n in networks)
    before = sum(curve[0].covered for curve in curves)
    population = sum(curve[0].population for curve in curves)
    notes = [
        f"Sites are this tool's answer from need, not the programme's official list: {spec.source}",
        "No bundle records today's ambulance stations: bases are placed as if there were none.",
    ]
    notes += [
        f"{curve[0].corridor}: all of its {k} candidate sites for {spec.service} are chosen; "
        "more centres there need more candidate sites in its candidates.geojson"
        for curve, k in zip(curves, split, strict=True)
        if k and k == len(curve) - 1
    ]
    if sum(split) < spec.centres:
        notes.append(
            f"{sum(split)} of {spec.centres} centres placed: no further candidate site "
            "brings anyone newly within the threshold"
        )
    return Programme(
        spec=spec,
        centres=centres,
        bases=bases,
        population=population,
        covered_before=before,
        covered_after=sum(c.covered for c in chosen),
        road_km=road_km,
        road_km_covered=sum(b.road_km_newly_covered for b in bases),
        per_corridor=[
            {
                "corridor": c.corridor,
                "centres": len(c.site_ids),
                "population": c.population,
                "covered_before": curve[0].covered,
                "covered_after": c.covered,
                "left_out": c.left_out,
            }
            for c, curve in zip(chosen, curves, strict=True)
        ],
        notes=notes,
    )


@dataclass(frozen=True)
class CorridorChoice:
    """The best ``k`` sites of one corridor: ids, names, gains in rank order, coverage."""

    corridor: str
    site_ids: tuple[str, ...]
    sites: tuple[str, ...]
    countries: tuple[str, ...]
    gains: tuple[float, ...]
    covered: float
    population: float
    left_out: dict[str, Any]


def coverage_curve(
    times: CorridorTravelTimes, service: str, threshold_min: float, most: int
) -> list[CorridorChoice]:
    """Return the exact best choice of ``k`` sites for ``k = 0 ... most`` (fewer if fewer sites).

    Entry ``k`` is the MCLP optimum with ``k`` sites; entry 0 is today's coverage.
    """
    network = times.network
    corridor = network.corridor.id
    try:
        available = len(candidates_for(network, service))
    except NotFoundError:
        available = 0
    covered, population = _covered_today(times, service, threshold_min)
    left_out = network.left_out("settlement")
    curve = [CorridorChoice(corridor, (), (), (), (), covered, population, left_out)]
    for k in range(1, min(most, available) + 1):
        scores = score_sites(times, service, threshold_min, k, method="mclp")
        table = scores.sites.sort_values("rank")
        curve.append(
            CorridorChoice(
                corridor,
                tuple(table["id"]),
                tuple(table["name"]),
                tuple(table["country"]),
                tuple(float(g) for g in table["newly_covered"]),
                float(scores.result.covered_weight),
                scores.population,
                scores.left_out,
            )
        )
    return curve


def _covered_today(
    times: CorridorTravelTimes, service: str, threshold_min: float
) -> tuple[float, float]:
    """People within the threshold of a facility offering the service today, and all people."""
    settlements = settlements_on_network(times.network)
    people = settlements["population"].to_numpy(dtype=float)
    try:
        existing = offering(times.network, service)
    except NotFoundError:
        return 0.0, float(people.sum())
    minutes = times.matrix(list(settlements["node"]), list(existing["node"])) / 60.0
    return float(people[within(minutes, threshold_min).any(axis=1)].sum()), float(people.sum())


def split_centres(curves: Sequence[Sequence[float]], centres: int) -> list[int]:
    """Split ``centres`` between corridors to cover the most people (exact).

    ``curves[i][k]`` is corridor ``i``'s coverage with its best ``k`` sites (non-decreasing
    in ``k``). A corridor never takes a site that adds nobody, so fewer than ``centres``
    may be placed. Ties go to the earlier corridor and to fewer sites.
    """
    # best[i][c]: most coverage from corridors i.. with c centres; take[i][c]: sites to i
    n = len(curves)
    best = [[0.0] * (centres + 1) for _ in range(n + 1)]
    take = [[0] * (centres + 1) for _ in range(n)]
    for i in range(n - 1, -1, -1):
        for c in range(centres + 1):
            options = [
                (curves[i][k] + best[i + 1][c - k], -k)
                for k in range(min(c, len(curves[i]) - 1) + 1)
                if k == 0 or curves[i][k] > curves[i][k - 1]
            ]
            value, minus_k = max(options)
            best[i][c], take[i][c] = value, -minus_k
    split, left = [], centres
    for i in range(n):
        split.append(take[i][left])
        left -= take[i][left]
    return split


def _phases(chosen: Sequence[CorridorChoice]) -> list[Centre]:
    """Order the chosen centres by the people each newly covers, largest first."""
    rows = [
        (gain, -i, rank, choice, site_id, site, country)
        for i, choice in enumerate(chosen)
        for rank, (site_id, site, country, gain) in enumerate(
            zip(choice.site_ids, choice.sites, choice.countries, choice.gains, strict=True)
        )
    ]
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    centres, total = [], sum(c.covered - sum(c.gains) for c in chosen)
    for phase, (gain, _, _, choice, site_id, site, country) in enumerate(rows, start=1):
        total += gain
        centres.append(Centre(phase, choice.corridor, site_id, site, country, gain, total))
    return centres


# ambulance bases -------------------------------------------------------------------------------


def _main_road_edges(network: CorridorNetwork) -> list[tuple[Any, Any, float, float]]:
    """Each main road once: ``(u, v, km, minutes)`` (the faster direction's time)."""
    seen: dict[tuple[Any, Any, Any], tuple[Any, Any, float, float]] = {}
    for u, v, data in network.graph.edges(data=True):
        if data.get("highway") not in MAIN_ROADS:
            continue
        key = (min(u, v, key=str), max(u, v, key=str), data.get("osmid"))
        km, minutes = float(data["length"]) / 1000.0, float(data["travel_time"]) / 60.0
        if key not in seen or minutes < seen[key][3]:
            seen[key] = (u, v, km, minutes)
    return list(seen.values())


def _main_road_km(network: CorridorNetwork) -> float:
    return sum(km for _, _, km, _ in _main_road_edges(network))


def road_piece_minutes(
    to_u: np.ndarray, to_v: np.ndarray, km: float, minutes: float
) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from each base to the middle of each piece of one road, and the pieces' km.

    Parameters
    ----------
    to_u, to_v : numpy.ndarray
        Minutes from each base to the road's two ends.
    km, minutes : float
        The road's length and driving time.

    Returns
    -------
    times : numpy.ndarray
        ``pieces x bases``: the faster of entering at either end and driving along.
    piece_km : numpy.ndarray
        Length of each piece (the road cut into equal pieces of at most ROAD_PIECE_KM).
    """
    pieces = max(1, math.ceil(km / ROAD_PIECE_KM))
    middle = (np.arange(pieces) + 0.5) / pieces
    along = minutes * middle[:, None]
    back = minutes * (1.0 - middle)[:, None]
    times = np.minimum(to_u[None, :] + along, to_v[None, :] + back)
    return times, np.full(pieces, km / pieces)


def _place_bases(
    network: CorridorNetwork, spec: ProgrammeSpec, choice: CorridorChoice, centres: list[Centre]
) -> list[AmbulanceBase]:
    """Exact MCLP on main-road pieces: as many bases as centres in this corridor."""
    times = CorridorTravelTimes(network, "ambulance", network.corridor.scenario(spec.scenario))
    sites = _base_sites(network)
    edges = _main_road_edges(network)
    if not edges or sites.empty:
        return []
    ends = sorted({n for u, v, _, _ in edges for n in (u, v)}, key=str)
    to_ends = times.matrix(list(sites["node"]), ends) / 60.0  # bases x road ends
    column = {n: j for j, n in enumerate(ends)}
    blocks, weights = [], []
    for u, v, km, minutes in edges:
        piece_times, piece_km = road_piece_minutes(
            to_ends[:, column[u]], to_ends[:, column[v]], km, minutes
        )
        blocks.append(piece_times)
        weights.append(piece_km)
    costs, km_weights = np.vstack(blocks), np.concatenate(weights)
    k = min(len(choice.site_ids), len(sites))
    problem = MaxCoverage.from_cost_matrix(costs, km_weights, spec.ambulance_min, k).solve()
    assert problem.result is not None
    destinations = _destinations(network, spec.service, choice)
    to_care = times.matrix(list(sites["node"]), list(destinations["node"])) / 60.0
    bases = []
    for j, gain in zip(problem.result.selected, problem.result.newly_covered, strict=True):
        nearest = int(np.argmin(to_care[j])) if to_care.shape[1] else -1
        minutes = float(to_care[j, nearest]) if nearest >= 0 else math.inf
        bases.append(
            AmbulanceBase(
                corridor=network.corridor.id,
                place=str(sites["name"].iloc[j]),
                road_km_newly_covered=round(gain, 1),
                brings_patients_to=str(destinations["name"].iloc[nearest])
                if nearest >= 0 and math.isfinite(minutes)
                else "",
                minutes_to_destination=round(minutes, 1),
            )
        )
    by_centre = {c.site: c for c in centres if c.corridor == network.corridor.id}
    for base in bases:
        if base.brings_patients_to in by_centre:
            by_centre[base.brings_patients_to].ambulance_bases.append(base.place)
    return bases


def _base_sites(network: CorridorNetwork) -> pd.DataFrame:
    """Where a base may stand: attached settlements and facilities, one row per node."""
    settlements = settlements_on_network(network)[["name", "node"]]
    facilities = network.corridor.facilities[["id", "name"]].copy()
    facilities["node"] = [network.node_of("facility", fid) for fid in facilities["id"]]
    facilities = facilities[facilities["node"].notna()][["name", "node"]]
    sites = pd.concat([settlements, facilities], ignore_index=True)
    return sites.drop_duplicates("node").reset_index(drop=True)


def _destinations(network: CorridorNetwork, service: str, choice: CorridorChoice) -> pd.DataFrame:
    """Facilities offering the service today, and the programme's new centres there."""
    try:
        existing = offering(network, service)[["name", "node"]]
    except NotFoundError:
        existing = pd.DataFrame({"name": [], "node": []})
    candidates = network.corridor.candidates
    new = candidates[candidates["id"].isin(choice.site_ids)][["id", "name"]].copy()
    new["node"] = [network.node_of("candidate", cid) for cid in new["id"]]
    return pd.concat([existing, new[["name", "node"]]], ignore_index=True)
