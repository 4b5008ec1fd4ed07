"""Unit helpers: hand-computed conversions, and the minimum edge time where a time is made."""

import math

import numpy as np

from corridor_planner import settings, units


def test_travel_seconds_of_a_length_at_a_speed():
    assert units.travel_seconds(1000.0, 36.0) == 100.0  # 1 km at 36 km/h = 10 m/s
    assert units.travel_seconds(0.0, 50.0) == settings.MIN_EDGE_SECONDS  # never a zero edge
    both = units.travel_seconds(np.array([1000.0, 0.0]), np.array([36.0, 72.0]))
    assert both.tolist() == [100.0, settings.MIN_EDGE_SECONDS]


def test_minutes_and_seconds_round_trip_and_keep_infinity():
    assert units.minutes(90.0) == 1.5 and units.seconds(1.5) == 90.0
    assert units.minutes(np.array([60.0, math.inf])).tolist() == [1.0, math.inf]


def test_speed_and_km():
    assert units.speed_kph(10.0, 30.0) == 20.0
    assert units.speed_kph(1.0, 0.0) == math.inf
    assert units.km(2500.0) == 2.5
