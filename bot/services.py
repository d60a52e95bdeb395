"""The app's resources, built once by the app factory and handed to flows as `ctx.services`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.metrics import Metrics
from bot.points import PointDirectory
from bot.state import StateStore


@dataclass
class Services:
    settings: Settings
    store: StateStore
    metrics: Metrics
    points: PointDirectory
