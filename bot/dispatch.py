"""One delivery's way after the protocol layer: dedup claim → rate limit → user lock → state →
route → save.

WeChat waits 5 seconds and then delivers again. A delivery seen before gets the reply kept for
it, also while the first is still running. Handling that outlasts the reply budget goes on in a
tracked task; WeChat is answered with no reply and the result follows as a customer-service
message.

Rate limit: what a user sends is counted after the claim (a retry is the same message, not
another) and before the lock (a flood never queues there, nor holds up anyone's lock), in the
state store, so every process counts together. The first message over
`limits.messages_per_user_per_minute` is answered with a notice, the rest of the minute's with no
reply ("success": WeChat shows nothing and does not retry), so a flood gets one notice, not one
each; none of them is handled. Events the user did not send (subscribe, unsubscribe, delivery
reports, the location WeChat reports) are not counted: unsubscribe must always stop the pushes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError

from bot.metrics import Metrics, message_label
from bot.services import Services
from bot.state import LockTimeout, Quota, Seen, StateStore, Turn
from bot.wechat.callback import Rejected
from bot.wechat.message import Incoming
from bot.wechat.reply import NewsReply, Reply, render
from conversations.flow import Context
from handlers.router import Router

log = logging.getLogger(__name__)

BUSY = "系统繁忙，刚才的消息没有处理成功，请稍后再发一次。"
STILL_WORKING = "您的上一条消息还在处理中，请稍候再发。"
SLOW_DOWN = "您发送得太快了，刚才的消息没有处理。请稍等一分钟再发。"
RATE_WINDOW_S = 60


class Dispatcher:
    def __init__(
        self,
        *,
        store: StateStore,
        router: Router,
        metrics: Metrics,
        services: Services,
        budget_s: float,
        idle_timeout_s: float,
        messages_per_minute: int = 0,
        send_late: Callable[[str, str], Awaitable[object]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.router = router
        self.metrics = metrics
        self.budget_s = budget_s
        # Kept past the idle timeout so the next message can say the flow timed out.
        self.state_ttl_s = int(idle_timeout_s + 86400)
        self.messages_per_minute = messages_per_minute
        self.services = services
        self.send_late = send_late
        self.clock = clock
        self.tasks: set[asyncio.Future[Any]] = set()

    async def deliver(self, msg: Incoming, seen: Seen | None = None) -> str:
        """The reply XML for this push ('' for none). Raises Rejected (403) when `seen`, the
        signed query it came with, came before with another body."""
        started = time.perf_counter()
        self.metrics.messages_of(message_label(msg.msg_type, msg.event)).inc()
        try:
            # asyncio.timeout, not wait_for: no extra task per delivery (this is the hot path).
            async with asyncio.timeout(self.budget_s):
                begin = await self.store.begin(msg.dedup_key, msg.openid, seen, self._quota(msg))
        except (LockTimeout, TimeoutError):
            self.metrics.replies_of("busy").inc()
            return render(STILL_WORKING, msg)
        except RedisError:  # the state store is unreachable: WeChat still gets a reply it can show
            log.exception("state store unavailable")
            self.metrics.errors.inc()
            return render(BUSY, msg)
        if begin.kind == "replayed":
            raise Rejected(403, "this signed query came before with another body")
        if begin.kind == "limited":
            return await self._limited(msg, begin.count)
        if begin.kind == "duplicate":
            self.metrics.replies_of("duplicate").inc()
            return begin.reply or ""
        if begin.kind == "pending":
            remaining = self.budget_s - (time.perf_counter() - started)
            reply = await self.store.wait_reply(msg.dedup_key, max(0.0, remaining))
            self.metrics.replies_of("duplicate").inc()
            return reply or ""
        assert begin.turn is not None
        task = asyncio.create_task(self._turn(begin.turn, msg))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        try:
            remaining = self.budget_s - (time.perf_counter() - started)
            if not await _finished_within(task, max(0.0, remaining)):
                task.add_done_callback(lambda t: self._deliver_late(t, msg))
                self.metrics.replies_of("late").inc()
                return ""
        finally:
            self.metrics.latency.observe(time.perf_counter() - started)
        reply_xml, _ = task.result()
        return reply_xml

    def _quota(self, msg: Incoming) -> Quota | None:
        if not self.messages_per_minute or (msg.msg_type == "event" and msg.event != "CLICK"):
            return None
        return Quota(f"rate:{msg.openid}", self.messages_per_minute, RATE_WINDOW_S)

    async def _limited(self, msg: Incoming, count: int) -> str:
        """The reply to a message over the limit: the notice for the first, nothing for the rest."""
        self.metrics.replies_of("limited").inc()
        reply_xml = render(SLOW_DOWN, msg) if count == self.messages_per_minute + 1 else ""
        try:
            await self.store.keep_reply(msg.dedup_key, reply_xml)
        except RedisError:  # its retries then find the claim unanswered and get no reply; this one has its own
            log.exception("keeping a rate-limited reply failed")
            self.metrics.errors.inc()
        return reply_xml

    async def _turn(self, turn: Turn, msg: Incoming) -> tuple[str, Reply]:
        """Handle the delivery; returns the reply as XML and as the router gave it."""
        ctx = Context(openid=msg.openid, now=self.clock(), services=self.services)
        try:
            outcome = await self.router.route(msg, turn.state, ctx)
        except Exception:
            # Nothing saved and the claim released: a retry, or the resident resending, runs again.
            log.exception("handling %s failed", msg.dedup_key.split(":")[0])
            self.metrics.errors.inc()
            await self.store.abort(turn)
            return render(BUSY, msg), BUSY
        reply_xml = render(outcome.reply, msg)
        try:
            await self.store.commit(turn, outcome.state, self.state_ttl_s, reply_xml)
        except RedisError:  # what the turn did is not saved: say so rather than answer as if it were
            log.exception("saving the conversation failed")
            self.metrics.errors.inc()
            return render(BUSY, msg), BUSY
        if outcome.started:
            self.metrics.flow_starts_of(outcome.started.name).inc()
        if outcome.completed:
            self.metrics.flow_completions_of(outcome.completed.name).inc()
        self.metrics.replies_of(_kind(outcome.reply)).inc()
        return reply_xml, outcome.reply

    def _deliver_late(self, task: asyncio.Task[tuple[str, Reply]], msg: Incoming) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        text = as_text(task.result()[1])
        if not text:
            return
        if self.send_late is None:
            log.warning("a late reply could not be sent: no WeChat API configured")
            return
        late = asyncio.ensure_future(self.send_late(msg.openid, text))
        self.tasks.add(late)
        late.add_done_callback(self.tasks.discard)

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Let running turns finish (shutdown), so none is cut off half-saved."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout_s)


async def _finished_within(task: asyncio.Task[Any], timeout_s: float) -> bool:
    """Wait for the task at most this long, leaving it running past it (as asyncio.wait does, with
    one future and one timer instead of its sets, callbacks and extra future: this is the hot path)."""
    waiter = asyncio.get_running_loop().create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    task.add_done_callback(wake)
    timer = asyncio.get_running_loop().call_later(timeout_s, wake)
    try:
        await waiter
    finally:
        timer.cancel()
        task.remove_done_callback(wake)
    return task.done()


def _kind(reply: Reply) -> str:
    if reply == "":
        return "none"
    return "news" if isinstance(reply, NewsReply) else "text"


def as_text(reply: Reply) -> str:
    """A reply as customer-service text, for replies that missed the passive-reply window."""
    if isinstance(reply, NewsReply):
        return f"{reply.article.title}\n{reply.article.description}\n{reply.article.url}"
    return reply
