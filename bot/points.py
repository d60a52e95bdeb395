"""The acceptance points every process answers from, read from the database and kept briefly."""

from __future__ import annotations

import time

from bot.acceptance_points_import import PointRow
from models import AcceptancePoint


class PointDirectory:
    # An operator's import shows up within this many seconds in every process.
    TTL_S = 60.0

    def __init__(self) -> None:
        self._points: tuple[PointRow, ...] = ()
        self._loaded_at = float("-inf")

    async def all(self) -> tuple[PointRow, ...]:
        if time.monotonic() - self._loaded_at > self.TTL_S:
            rows = await AcceptancePoint.all().order_by("id")
            self._points = tuple(PointRow(r.name, r.district, r.address, r.lat, r.lng, r.hours, r.phone) for r in rows)
            self._loaded_at = time.monotonic()
        return self._points
