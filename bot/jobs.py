"""The jobs beside the web app (SPEC §1): the push sender, in the worker or in `serve`.

With Redis, `residence-bot worker` runs the sender loop (bot/services/push_sender.py) in an arq
worker, and the job queue only wakes it: a change made anywhere (a `serve` process, the CLI)
enqueues `wake_sender`, which the worker takes within its poll delay. Several workers may run:
each row is claimed by one in the database, so none is sent twice. `serve` then only wakes.

Without Redis there is no queue and no worker: `serve` runs the same loop in-process
(`serve_pushes`), woken by the changes its own requests make.

The daily reminder scan is to be a cron job of the worker (`cron_jobs` in `_worker`), and the
in-process runner's counterpart in `serve_pushes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from arq.connections import RedisSettings
from arq.worker import Worker, func

from bot.config import Settings
from bot.db import Database
from bot.metrics import Metrics
from bot.services import Services
from bot.services.push_sender import QUEUE_NAME, WAKE_JOB, PushSender
from bot.state import open_store

log = logging.getLogger(__name__)

# How long shutdown waits for the send in flight; a row cut off is sent again after its lease.
STOP_TIMEOUT_S = 10.0
_SETTINGS = "rb_settings"
_SENDER = "rb_sender"
_RESOURCES = "rb_resources"


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


@contextlib.asynccontextmanager
async def serve_pushes(settings: Settings, sender: PushSender) -> AsyncIterator[None]:
    """What `serve` does about pushes: without Redis it sends them; with Redis the worker does, and
    this process only wakes it."""
    if settings.state_backend == "redis":
        try:
            yield
        finally:
            await sender.close()
        return
    async with sending(sender):
        yield


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
        cron_jobs=[],  # the daily reminder scan goes here
        queue_name=QUEUE_NAME,
        redis_settings=RedisSettings.from_dsn(settings.redis.url),
        on_startup=_startup,
        on_shutdown=_shutdown,
        ctx={_SETTINGS: settings},
        handle_signals=True,
    )


async def wake_sender(ctx: dict[str, Any]) -> None:
    """The job a wake enqueues: nudge this worker's loop (another worker's loop may take the rows
    first; the claims decide)."""
    ctx[_SENDER].wake_here()


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
    print(f"residence-bot: worker sending pushes ({settings.state_backend} state, queue {QUEUE_NAME})", flush=True)


async def _shutdown(ctx: dict[str, Any]) -> None:
    resources: contextlib.AsyncExitStack | None = ctx.get(_RESOURCES)
    if resources is not None:
        await resources.aclose()
