"""The acceptance points every process answers from, read from the database and kept briefly."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache

from models import AcceptancePoint
from models.acceptance_point import PointDetails
from models.geo import nearest

Ranked = tuple[tuple[PointDetails, float], ...]  # (point, distance in km), nearest first


class AcceptancePoints:
    # An operator's import shows up within this many seconds in every process.
    TTL_S = 60.0

    def __init__(self) -> None:
        self._points: tuple[PointDetails, ...] = ()
        self._loaded_at = float("-inf")
        self._ranked = _ranker(self._points)

    async def all(self) -> tuple[PointDetails, ...]:
        if time.monotonic() - self._loaded_at > self.TTL_S:
            rows = await AcceptancePoint.all().order_by("id")
            self._points = tuple(
                PointDetails(r.name, r.district, r.address, r.lat, r.lng, r.hours, r.phone) for r in rows
            )
            self._ranked = _ranker(self._points)
            self._loaded_at = time.monotonic()
        return self._points

    def nearest(self, lat: float, lng: float, n: int) -> Ranked:
        """The n points of the last `all()` nearest to (lat, lng)."""
        return self._ranked(lat, lng, n)


def _ranker(points: tuple[PointDetails, ...]) -> Callable[[float, float, int], Ranked]:
    # Most lookups are from one of a few district centres: ranking every point for each was a
    # few % of a message's CPU. The cache goes with the points it ranked.
    @lru_cache(maxsize=256)
    def ranked(lat: float, lng: float, n: int) -> Ranked:
        return tuple(nearest(points, lat, lng, n))

    return ranked
