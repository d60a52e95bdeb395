"""The app factory: callback, receipt pages, health, metrics, admin API. Resources live on the app, not in globals."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.admin import ADMIN_SERVICES, UNITS, setup_admin
from bot.config import Settings
from bot.db import Database
from bot.dispatch import Dispatcher
from bot.jobs import serve_pushes
from bot.metrics import Metrics
from bot.receipt_pages import setup_receipt_pages
from bot.services import Services, pushes
from bot.state import StateStore, open_store
from bot.wechat.api import WeChatAPI, WeChatAPIError
from bot.wechat.callback import Callback, Rejected
from conversations import requirements
from conversations.engine import Engine
from conversations.flow import Flow
from conversations.help import Help
from conversations.registry import FLOWS
from handlers.router import Router

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
DATABASE = web.AppKey("database", Database)
STORE = web.AppKey("store", StateStore)
CALLBACK = web.AppKey("callback", Callback)
# Set when the app starts: the services need the HTTP session, which lives as long as the app runs.
SERVICES = web.AppKey("services", Services)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)


def create_app(
    settings: Settings,
    *,
    flows: Sequence[Flow] = FLOWS,
    store: StateStore | None = None,
    database: Database | None = None,
) -> web.Application:
    """Build the app. Tests may pass their own flows or store, and a database they opened
    already; without one the app opens (and closes) the configured database itself."""
    app = web.Application(client_max_size=settings.server.max_body_bytes)
    # First: a bot that cannot draw receipts (no usable font) stops before it opens anything.
    setup_receipt_pages(app, settings)
    metrics = Metrics()
    store = store or open_store(settings)
    manage_db = database is None
    database = database or Database(settings.database.url)
    idle = timedelta(minutes=settings.state.idle_timeout_minutes)
    router = Router(
        Engine(flows, idle, Help(settings.help.hotline, settings.help.hours), audience=requirements.audience)
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[DATABASE] = database
    app[STORE] = store
    app[CALLBACK] = Callback(settings.wechat)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        if manage_db:
            await database.open()
        async with aiohttp.ClientSession() as session:
            services = Services.build(settings, store, session, metrics)
            dispatcher = Dispatcher(
                store=store,
                router=router,
                metrics=metrics,
                services=services,
                budget_s=settings.server.reply_budget_s,
                idle_timeout_s=settings.state.idle_timeout_minutes * 60,
                messages_per_minute=settings.limits.messages_per_user_per_minute,
                send_late=_late_sender(services.wechat, metrics) if services.wechat else None,
            )
            app[SERVICES] = services
            app[DISPATCHER] = dispatcher
            app[UNITS] = services.units  # for the admin API
            app[ADMIN_SERVICES] = services
            if manage_db:  # the process's own app (serve), not one of many in a test run
                # What start-up built lives as long as the process: frozen, it is out of the
                # collector's full passes, which otherwise stall every reply in flight for tens of ms.
                # Deliveries leave a few reference cycles each; collecting the young generation every
                # 700 allocations took ~8% of the CPU under load, every 10,000 takes under 1%.
                gc.collect()
                gc.freeze()
                gc.set_threshold(10_000, 10, 10)
            yield
            await dispatcher.drain()
        await store.close()
        if manage_db:
            await database.close()

    app.cleanup_ctx.append(resources)

    async def pushes(app: web.Application) -> AsyncIterator[None]:
        # After `resources`, so it stops first: the sender's last send still has its session.
        async with serve_pushes(settings, app[SERVICES], daily_scans=manage_db):
            yield

    app.cleanup_ctx.append(pushes)
    app.router.add_get("/wechat", verify_url)
    app.router.add_post("/wechat", callback)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    setup_admin(app, settings.admin)
    return app


def _late_sender(api: WeChatAPI, metrics: Metrics):
    async def send(openid: str, text: str) -> None:
        try:
            await api.send_text(openid, text)
            metrics.pushes.labels("late_reply", "sent").inc()
        except WeChatAPIError as exc:
            metrics.pushes.labels("late_reply", "failed").inc()
            log.warning("late reply not sent: %s", exc)

    return send


async def verify_url(request: web.Request) -> web.Response:
    try:
        echostr = request.app[CALLBACK].verify_url(request.query)
    except Rejected as exc:
        request.app[METRICS].rejected.labels(str(exc.status)).inc()
        return web.Response(status=exc.status, text=exc.reason)
    return web.Response(text=echostr)


async def callback(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    limit = request.app[SETTINGS].server.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        metrics.rejected.labels("413").inc()
        return web.Response(status=413, text="body too large")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        metrics.rejected.labels("413").inc()
        return web.Response(status=413, text="body too large")
    protocol = request.app[CALLBACK]
    try:
        decoded = protocol.decode(request.query, body)
        reply_xml = await request.app[DISPATCHER].deliver(decoded.incoming, decoded.seen)
    except Rejected as exc:
        metrics.rejected.labels(str(exc.status)).inc()
        return web.Response(status=exc.status, text=exc.reason)
    if not reply_xml:
        return web.Response(text="success")
    return web.Response(text=protocol.encode(decoded, reply_xml), content_type="application/xml")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    checks = {"database": await request.app[DATABASE].ping(), "state": await request.app[STORE].ping()}
    status = 200 if all(checks.values()) else 503
    return web.json_response({"ready": status == 200, "checks": checks}, status=status)


async def metrics_view(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    await read_outbox(metrics)
    body = generate_latest(metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def read_outbox(metrics: Metrics, timeout_s: float = 2.0) -> None:
    """Set the outbox gauges from the database; NaN when it does not answer in time, so that a
    dashboard shows a gap, not the last numbers read."""
    now = datetime.now(UTC)
    try:
        async with asyncio.timeout(timeout_s):
            backlog = await pushes.backlog(now)
    except Exception as exc:  # any failure: the other metrics are still worth serving
        log.warning("metrics: the outbox was not read: %s: %s", type(exc).__name__, exc)
        for gauge in (metrics.outbox_due, metrics.outbox_oldest_due, metrics.outbox_failed):
            gauge.set(float("nan"))
        return
    waited = (now - backlog.oldest_due_at).total_seconds() if backlog.oldest_due_at else 0.0
    metrics.outbox_due.set(backlog.due)
    metrics.outbox_oldest_due.set(max(0.0, waited))
    metrics.outbox_failed.set(backlog.failed)
