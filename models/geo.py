"""Distances between coordinates (GCJ-02 degrees; the offset against WGS-84 cancels out locally)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Protocol, TypeVar

EARTH_RADIUS_KM = 6371.0088


class Located(Protocol):
    @property
    def lat(self) -> float: ...
    @property
    def lng(self) -> float: ...


T = TypeVar("T", bound=Located)


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def nearest(places: Iterable[T], lat: float, lng: float, n: int = 3) -> list[tuple[T, float]]:
    ranked = sorted(((p, distance_km(lat, lng, p.lat, p.lng)) for p in places), key=lambda pair: pair[1])
    return ranked[:n]
