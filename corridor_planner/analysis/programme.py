"""A programme of new centres across corridors: which sites, in what order, with which bases.

Ministries and development banks plan centres as a programme that spans corridors (the
China - Pakistan emergency care programme along CPEC began in Gwadar in 2017). A
programme file (``data/programmes/<id>.toml``) names the corridors, how many centres, the
service, the access threshold and the ambulance response time. From it:

- **Sites.** For each corridor and each number of centres ``k`` it could take, the exact
  maximal covering problem (:class:`~corridor_planner.analysis.siting.MaxCoverage`) gives the most
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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from corridor_planner import settings, units
from corridor_planner.analysis.access import offering, settlements_on_network
from corridor_planner.analysis.coverage import within
from corridor_planner.analysis.scoring import candidates_for
from corridor_planner.analysis.siting import MaxCoverage
from corridor_planner.errors import TOO_DEEP, DataError, NotFoundError, Problem
from corridor_planner.network.graph import CorridorNetwork
from corridor_planner.network.roads import way_id
from corridor_planner.routing.traveltimes import CorridorTravelTimes
from corridor_planner.schema.programme import check_programme

#: Road classes an ambulance base must cover (where crashes and emergencies on the way are).
MAIN_ROADS = frozenset({"motorway", "trunk", "primary"})
#: Longest piece of main road judged as one demand point (km).
ROAD_PIECE_KM = 1.0
PROGRAMMES_DIR = settings.PROGRAMMES_DIR


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
    brings_patients_to: str  # empty when no destination can be reached
    destination_id: str
    minutes_to_destination: float | None


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
    """Read and check a programme file: a name in ``data/programmes/`` or a ``.toml`` path.

    A name is a plain file name without ``.toml`` (``cpec_emergency_care``): it is looked
    up in the programmes folder only, never as a path (``../../x/corridor`` is refused).
    Any other file is given as the path of an existing file ending in ``.toml``.

    Raises
    ------
    NotFoundError
        No such programme, or a name that is a path.
    DataError
        Anything wrong in the file, with its entry and field.
    """
    path = _programme_path(str(name_or_path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError([Problem(path.name, "-", "-", f"not valid TOML: {exc}")]) from exc
    except RecursionError:
        raise DataError([Problem(path.name, "-", "-", TOO_DEEP)]) from None
    return _checked_programme(data, path)


def _programme_path(name: str) -> Path:
    """Where programme ``name`` is: in the programmes folder, or the ``.toml`` file named."""
    known = ", ".join(sorted(p.stem for p in PROGRAMMES_DIR.glob("*.toml")))
    if name.lower().endswith(".toml"):
        path = Path(name)
        if not path.is_file():
            raise NotFoundError(f"no programme file {name!r} (known programmes: {known})")
        return path
    plain = name and not any(c in name for c in "/\\\0") and name not in {".", ".."}
    path = PROGRAMMES_DIR / f"{name}.toml"
    if not plain or not path.is_file():
        hint = "; a file of your own is given as a path ending in .toml" if not plain else ""
        raise NotFoundError(f"no programme {name!r} (known: {known}){hint}")
    return path


def _checked_programme(data: dict[str, Any], path: Path) -> ProgrammeSpec:
    checked, problems = check_programme(data, path.name)
    if checked is None:
        raise DataError(problems)
    return ProgrammeSpec(
        id=checked.id,
        name=checked.name,
        corridors=tuple(checked.corridors),
        centres=int(checked.centres),
        service=checked.service,
        threshold_min=float(checked.threshold_minutes),
        ambulance_min=float(checked.ambulance_minutes),
        scenario=checked.scenario,
        source=checked.source,
    )


# planning ------------------------------------------------------------------------------------


def plan_programme(spec: ProgrammeSpec, networks: Sequence[CorridorNetwork]) -> Programme:
    """Choose the programme's sites, their order and their ambulance bases.

    Parameters
    ----------
    spec : ProgrammeSpec
        The programme file.
    networks : sequence of CorridorNetwork
        The built corridors, in the order of ``spec.corridors``; each must have the
        programme's scenario (:func:`check_corridors`).
    """
    times = [
        CorridorTravelTimes(n, "citizen", n.corridor.scenario(spec.scenario)) for n in networks
    ]
    curves = [coverage_curve(t, spec.service, spec.threshold_min, spec.centres) for t in times]
    values = [[c.covered for c in curve] for curve in curves]
    split = split_centres(values, spec.centres)
    chosen = [curve[k] for curve, k in zip(curves, split, strict=True)]
    centres = _phases(chosen)
    bases = []
    for network, choice in zip(networks, chosen, strict=True):
        destinations = _destinations(network, spec.service, choice)
        bases += _place_bases(network, spec, len(choice.site_ids), destinations)
    _link_bases(centres, bases)
    return Programme(
        spec=spec,
        centres=centres,
        bases=bases,
        population=sum(curve[0].population for curve in curves),
        covered_before=sum(curve[0].covered for curve in curves),
        covered_after=sum(c.covered for c in chosen),
        road_km=sum(road_km(n) for n in networks),
        road_km_covered=sum(b.road_km_newly_covered for b in bases),
        per_corridor=[
            {
                "corridor": c.corridor,
                "candidates": c.available,
                "centres": len(c.site_ids),
                "population": c.population,
                "covered_before": curve[0].covered,
                "covered_after": c.covered,
                "left_out": c.left_out,
            }
            for c, curve in zip(chosen, curves, strict=True)
        ],
        notes=_notes(spec, curves, split, centres, values),
    )


def check_corridors(spec: ProgrammeSpec, networks: Sequence[CorridorNetwork]) -> None:
    """Refuse a programme whose corridors repeat one bundle or lack its scenario.

    Raises
    ------
    DataError
        Naming the programme file's field.
    """
    file = f"{spec.id} (programme)"
    problems = []
    paths = [n.corridor.path.resolve() for n in networks]
    for path in sorted({p for p in paths if paths.count(p) > 1}):
        problems.append(Problem(file, "-", "corridors", f"lists the bundle {path} twice"))
    for network in networks:
        if spec.scenario not in network.corridor.scenarios:
            known = ", ".join(sorted(network.corridor.scenarios))
            problems.append(
                Problem(
                    file,
                    "-",
                    "scenario",
                    f"corridor {network.corridor.id} has no scenario {spec.scenario!r} "
                    f"(it has {known})",
                )
            )
    if problems:
        raise DataError(problems)


def _notes(
    spec: ProgrammeSpec,
    curves: Sequence[Sequence[CorridorChoice]],
    split: Sequence[int],
    centres: Sequence[Centre],
    values: Sequence[Sequence[float]],
) -> list[str]:
    """Say what the reader must know: the answer is from need, what was left out and why."""
    notes = [
        f"Sites are this tool's answer from need, not the programme's official list: {spec.source}",
        "No bundle records today's ambulance stations: bases are placed as if there were none.",
    ]
    for curve, k in zip(curves, split, strict=True):
        corridor, available = curve[0].corridor, curve[0].available
        if available == 0:
            notes.append(f"{corridor}: no candidate site offers {spec.service}")
        elif k == available:
            notes.append(
                f"{corridor}: all of its {k} candidate sites for {spec.service} are chosen; "
                "more centres there need more candidate sites in its candidates.geojson"
            )
    if sum(split) < spec.centres:
        notes.append(
            f"{sum(split)} of {spec.centres} centres placed: no other candidate site brings "
            "anyone newly within the threshold"
        )
    for j, centre in enumerate(centres[:-1], start=1):
        best = sum(v[k] for v, k in zip(values, split_centres(values, j), strict=True))
        if centre.covered_after < best - 0.5:
            notes.append(
                f"The phases order the {len(centres)}-centre plan: with only {j} centres, "
                f"another set would cover {best - centre.covered_after:,.0f} more people"
            )
            break
    return notes


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
    available: int  # candidate sites offering the service


def coverage_curve(
    times: CorridorTravelTimes, service: str, threshold_min: float, most: int
) -> list[CorridorChoice]:
    """Return the exact best choice of ``k`` sites for ``k = 0 ... most`` (fewer if fewer sites).

    Entry ``k`` is the MCLP optimum with ``k`` sites; entry 0 is today's coverage. The
    travel times are computed once; each ``k`` solves the same problem again.
    """
    network = times.network
    corridor = network.corridor.id
    settlements = settlements_on_network(network)
    people = settlements["population"].to_numpy(dtype=float)
    origins = list(settlements["node"])
    sites = _or_empty(lambda: candidates_for(network, service))
    existing = _or_empty(lambda: offering(network, service))
    existing_minutes = _minutes(times, origins, existing)
    today = float(people[within(existing_minutes, threshold_min).any(axis=1)].sum())
    left_out = network.left_out("settlement")
    curve = [
        CorridorChoice(corridor, (), (), (), (), today, float(people.sum()), left_out, len(sites))
    ]
    if sites.empty:
        return curve
    costs = _minutes(times, origins, sites)
    for k in range(1, min(most, len(sites)) + 1):
        problem = MaxCoverage.from_cost_matrix(costs, people, threshold_min, k, existing_minutes)
        result = problem.solve().result
        assert result is not None
        rows = sites.iloc[result.selected]
        curve.append(
            CorridorChoice(
                corridor,
                tuple(rows["id"]),
                tuple(rows["name"]),
                tuple(rows["country"]),
                tuple(result.newly_covered),
                float(result.covered_weight),
                float(people.sum()),
                left_out,
                len(sites),
            )
        )
    return curve


def _or_empty(table: Any) -> pd.DataFrame:
    """Return the table, or an empty one where nothing offers the service."""
    try:
        return table()
    except NotFoundError:
        return pd.DataFrame({"id": [], "name": [], "country": [], "node": []})


def _minutes(times: CorridorTravelTimes, origins: list[Any], points: pd.DataFrame) -> np.ndarray:
    """Minutes from each origin node to each point's node (no columns when no points)."""
    if points.empty:
        return np.empty((len(origins), 0))
    return units.minutes(times.matrix(origins, list(points["node"])))


def split_centres(curves: Sequence[Sequence[float]], centres: int) -> list[int]:
    """Split ``centres`` between corridors to cover the most people (exact).

    ``curves[i][k]`` is corridor ``i``'s coverage with its best ``k`` sites (non-decreasing
    in ``k``). A corridor never takes a site that adds nobody, so fewer than ``centres``
    may be placed. On a tie an earlier corridor takes fewer sites.
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
        (gain, i, rank, choice, site_id, site, country)
        for i, choice in enumerate(chosen)
        for rank, (site_id, site, country, gain) in enumerate(
            zip(choice.site_ids, choice.sites, choice.countries, choice.gains, strict=True)
        )
    ]
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    total = sum(c.covered - sum(c.gains) for c in chosen)
    centres = []
    for phase, (gain, _, _, choice, site_id, site, country) in enumerate(rows, start=1):
        total += gain
        centres.append(Centre(phase, choice.corridor, site_id, site, country, gain, total))
    return centres


# ambulance bases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MainRoad:
    """One main road between two graph nodes: its km and minutes in each direction.

    ``forward`` is u -> v, ``backward`` v -> u; ``inf`` where the road is one-way or
    closed that way under the scenario.
    """

    u: Any
    v: Any
    km: float
    forward: float
    backward: float


def main_roads(network: CorridorNetwork, factors: dict[str, float] | None = None) -> list[MainRoad]:
    """Each main road once, with its minutes each way under a scenario's way factors."""
    factors = factors or {}
    roads: dict[tuple[Any, ...], MainRoad] = {}
    for u, v, key, data in network.graph.edges(keys=True, data=True):
        if data.get("highway") not in MAIN_ROADS:
            continue
        way = way_id(data) if data.get("osmid") is not None else f"edge {u}-{v}-{key}"
        a, b = sorted((u, v), key=str)
        minutes = units.minutes(float(data["travel_time"])) * factors.get(way, 1.0)
        empty = MainRoad(a, b, float(data["length"]) / 1000.0, math.inf, math.inf)
        road = roads.get((a, b, way), empty)
        if (u, v) == (a, b):
            road = replace(road, forward=min(road.forward, minutes))
        else:
            road = replace(road, backward=min(road.backward, minutes))
        roads[(a, b, way)] = road
    return list(roads.values())


def road_km(network: CorridorNetwork) -> float:
    """Km of main road in a corridor (each road once, whatever its directions)."""
    return sum(road.km for road in main_roads(network))


def road_piece_minutes(
    to_u: np.ndarray, to_v: np.ndarray, road: MainRoad
) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from each base to the middle of each piece of one road, and the pieces' km.

    Parameters
    ----------
    to_u, to_v : numpy.ndarray
        Minutes from each base to the road's two ends.
    road : MainRoad
        The road: a piece is reached by entering at ``u`` and driving forward, or at
        ``v`` and driving backward (``inf`` where that direction cannot be driven).

    Returns
    -------
    times : numpy.ndarray
        ``pieces x bases``.
    piece_km : numpy.ndarray
        Length of each piece (the road cut into equal pieces of at most ROAD_PIECE_KM).
    """
    pieces = max(1, math.ceil(road.km / ROAD_PIECE_KM))
    middle = (np.arange(pieces) + 0.5) / pieces
    with np.errstate(invalid="ignore"):
        forward = to_u[None, :] + road.forward * middle[:, None]
        backward = to_v[None, :] + road.backward * (1.0 - middle)[:, None]
    times = np.fmin(np.nan_to_num(forward, nan=math.inf), np.nan_to_num(backward, nan=math.inf))
    return times, np.full(pieces, road.km / pieces)


def _place_bases(
    network: CorridorNetwork, spec: ProgrammeSpec, count: int, destinations: pd.DataFrame
) -> list[AmbulanceBase]:
    """Exact MCLP on main-road pieces: ``count`` bases covering the most road."""
    scenario = network.corridor.scenario(spec.scenario)
    roads = [
        r
        for r in main_roads(network, scenario.way_time_factors())
        if math.isfinite(min(r.forward, r.backward))
    ]
    sites = _base_sites(network)
    if not count or not roads or sites.empty:
        return []
    times = CorridorTravelTimes(network, "ambulance", scenario)
    ends = sorted({n for r in roads for n in (r.u, r.v)}, key=str)
    to_ends = units.minutes(times.matrix(list(sites["node"]), ends))  # bases x road ends
    column = {n: j for j, n in enumerate(ends)}
    blocks = [
        road_piece_minutes(to_ends[:, column[r.u]], to_ends[:, column[r.v]], r) for r in roads
    ]
    costs = np.vstack([b[0] for b in blocks])
    km = np.concatenate([b[1] for b in blocks])
    problem = MaxCoverage.from_cost_matrix(costs, km, spec.ambulance_min, min(count, len(sites)))
    result = problem.solve().result
    assert result is not None
    to_care = _minutes(times, list(sites["node"]), destinations)
    bases = []
    for j, gain in zip(result.selected, result.newly_covered, strict=True):
        if gain <= 0:
            continue  # a base that covers no road is no answer: said in the notes
        nearest = int(np.argmin(to_care[j])) if to_care.shape[1] else -1
        reachable = nearest >= 0 and math.isfinite(float(to_care[j, nearest]))
        bases.append(
            AmbulanceBase(
                corridor=network.corridor.id,
                place=str(sites["name"].iloc[j]),
                road_km_newly_covered=round(gain, 1),
                brings_patients_to=str(destinations["name"].iloc[nearest]) if reachable else "",
                destination_id=str(destinations["id"].iloc[nearest]) if reachable else "",
                minutes_to_destination=round(float(to_care[j, nearest]), 1) if reachable else None,
            )
        )
    return bases


def _link_bases(centres: list[Centre], bases: Sequence[AmbulanceBase]) -> None:
    """List under each new centre the bases that bring patients to it."""
    by_site = {(c.corridor, c.site_id): c for c in centres}
    for base in bases:
        centre = by_site.get((base.corridor, base.destination_id))
        if centre is not None:
            centre.ambulance_bases.append(base.place)


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
    existing = _or_empty(lambda: offering(network, service))[["id", "name", "node"]]
    candidates = network.corridor.candidates
    new = candidates[candidates["id"].isin(choice.site_ids)][["id", "name"]].copy()
    new["node"] = [network.node_of("candidate", cid) for cid in new["id"]]
    return pd.concat([existing, new], ignore_index=True)
