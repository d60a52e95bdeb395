"""The jobs beside the web app (SPEC §1): the push sender, in the worker or in `serve`.

With Redis, `residence-bot worker` runs the sender loop (bot/services/push_sender.py) in an arq
worker, and the job queue only wakes it: a change made anywhere (a `serve` process, the CLI)
enqueues `wake_sender`, which the worker takes within its poll delay. Several workers may run:
each row is claimed by one in the database, so none is sent twice. `serve` then only wakes.

Without Redis there is no queue and no worker: `serve` runs the same loop in-process
(`serve_pushes`), woken by the changes its own requests make.

The daily reminder scan (bot/services/reminders.py) runs at reminders.send_hour, Shenzhen time: an
arq cron job of the workers (arq's `unique` lets one worker take each day's run; the outbox's
unique keys make a second run write nothing anyway), or without Redis a task of `serve`. Each
also scans when it starts, so a process started after send_hour still reminds that day: a scan is
idempotent, and its reminders are due at send_hour (already past: at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiohttp
from arq.cron import cron
from arq.worker import Worker, func

from bot.config import Settings
from bot.db import Database
from bot.metrics import Metrics
from bot.services import Services
from bot.services.push_sender import QUEUE_NAME, WAKE_JOB, PushSender, queue_settings
from bot.services.reminders import Reminders
from bot.state import open_store
from models.rules import SHENZHEN

log = logging.getLogger(__name__)

# How long shutdown waits for the send in flight; a row cut off is sent again after its lease.
STOP_TIMEOUT_S = 10.0
_SETTINGS = "rb_settings"
_SENDER = "rb_sender"
_RESOURCES = "rb_resources"
_SERVICES = "rb_services"
SHENZHEN_OFFSET = timezone(timedelta(hours=8))  # Shenzhen keeps no daylight saving time


@contextlib.asynccontextmanager
async def sending(sender: PushSender) -> AsyncIterator[None]:
    """The sender's loop as a task of this process, for as long as the context lasts."""
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop), name="push-sender")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("push sender: stopped in the middle of a send; that push goes out after its lease")
        await sender.close()


async def scan_today(reminders: Reminders, sender: PushSender, now: datetime | None = None) -> int:
    """The day's reminder scan, then the sender woken for what it wrote; the reminders found."""
    today = (now or datetime.now(UTC)).astimezone(SHENZHEN).date()
    found = await reminders.scan(today, due_at=reminders.due_at(today))
    sender.wake_here()
    return len(found)


async def _daily_scans(settings: Settings, services: Services, stop: asyncio.Event) -> None:
    """Without Redis: the scan now and then every day at reminders.send_hour, until `stop`."""
    while not stop.is_set():
        try:
            await scan_today(services.reminders, services.push_sender)
        except Exception:
            log.exception("reminder scan failed; the next one is at %02d:00", settings.reminders.send_hour)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _seconds_to_next(settings.reminders.send_hour, datetime.now(UTC)))


def _seconds_to_next(hour: int, now: datetime) -> float:
    local = now.astimezone(SHENZHEN)
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at <= local:
        at += timedelta(days=1)
    return (at - local).total_seconds()


@contextlib.asynccontextmanager
async def serve_pushes(settings: Settings, services: Services, *, daily_scans: bool = True) -> AsyncIterator[None]:
    """What `serve` does about pushes: without Redis it sends them and runs the daily reminder scan
    (unless `daily_scans` is false: an app of a test run, whose test scans when it means to); with
    Redis the workers do both, and this process only wakes them."""
    sender = services.push_sender
    if settings.state_backend == "redis":
        try:
            yield
        finally:
            await sender.close()
        return
    stop = asyncio.Event()
    scans = asyncio.create_task(_daily_scans(settings, services, stop), name="reminder-scans") if daily_scans else None
    try:
        async with sending(sender):
            yield
    finally:
        stop.set()
        if scans is not None:
            await scans


# -- the arq worker --------------------------------------------------------------------------
async def run_worker(settings: Settings) -> None:
    """`residence-bot worker`: until SIGINT or SIGTERM."""
    worker = _worker(settings)
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        pass  # arq's signal handler cancels its main task: the way it stops
    finally:
        await worker.close()


def _worker(settings: Settings) -> Worker:
    return Worker(
        functions=[func(wake_sender, name=WAKE_JOB, keep_result=0, max_tries=1)],
        cron_jobs=[cron(daily_scan, hour=settings.reminders.send_hour, minute=0, run_at_startup=True)],
        timezone=SHENZHEN_OFFSET,  # the cron's hour is Shenzhen's
        queue_name=QUEUE_NAME,
        redis_settings=queue_settings(settings.redis.url),
        on_startup=_startup,
        on_shutdown=_shutdown,
        ctx={_SETTINGS: settings},
        handle_signals=True,
    )


async def wake_sender(ctx: dict[str, Any]) -> None:
    """The job a wake enqueues: nudge this worker's loop (another worker's loop may take the rows
    first; the claims decide)."""
    ctx[_SENDER].wake_here()


async def daily_scan(ctx: dict[str, Any]) -> None:
    """The cron job: the day's reminder scan, in this worker."""
    await scan_today(ctx[_SERVICES].reminders, ctx[_SENDER])


async def _startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx[_SETTINGS]
    resources = contextlib.AsyncExitStack()
    await resources.enter_async_context(Database(settings.database.url))
    store = open_store(settings)
    resources.push_async_callback(store.close)
    session = await resources.enter_async_context(aiohttp.ClientSession())
    services = Services.build(settings, store, session, Metrics())
    await resources.enter_async_context(sending(services.push_sender))
    ctx[_RESOURCES] = resources
    ctx[_SENDER] = services.push_sender
    ctx[_SERVICES] = services
    print(f"residence-bot: worker sending pushes ({settings.state_backend} state, queue {QUEUE_NAME})", flush=True)


async def _shutdown(ctx: dict[str, Any]) -> None:
    resources: contextlib.AsyncExitStack | None = ctx.get(_RESOURCES)
    if resources is not None:
        await resources.aclose()
