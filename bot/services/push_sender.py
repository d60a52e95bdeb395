"""The push outbox, the sending side (SPEC §6): due rows claimed one at a time, sent once, marked.

A row is claimed by a conditional UPDATE (`claimed_until`, a lease of pushes.lease_s) whose updated
row count says whether this sender got it, so two senders, in one process or many, on SQLite or
PostgreSQL, never both send it. The recipient is resolved when the row is sent: the account's
binding now, if its WeChat user still follows the account. A sender that dies after sending and
before marking loses nothing: when the lease ends the row is sent again with the same
`client_msg_id`, and WeChat drops the repeat (the lease is well under WeChat's 10 minutes).

Errors: -1, 45009, 45011, HTTP errors and timeouts (and a token refused even after the client's one
refresh) are transient: the row is due again after a doubling backoff, and failed after
pushes.max_attempts. They are WeChat's, not the row's, so they also end the round: the rows after it
would fail alike, each costing its own tries (and, in a 40001 storm, a stable_token call), so they
stay due, untouched, and the round after the backoff tries again. 43004 means the user no longer
follows: they are marked unsubscribed and get nothing more. Any other error fails the row at once.

No push goes out inside reminders.quiet_hours: one claimed then is due again at their end (deferred,
never dropped). Reminders (kind REMINDER) also keep the resident's opt-out (提醒; skipped) and go
out as reminders.channel says: template messages, or subscribe notifications (bizsend), where
43101 (the user has not accepted the template) skips the row. A subscribe notification has no client_msg_id,
so one that a dying sender sent but did not mark may arrive twice; template messages cannot.

Waking: `wake()` nudges the sender at once instead of at its next scan. In this process it sets the
event the loop (`run`) waits on; with Redis it also enqueues a wake job for the worker
(bot/jobs.py) on the job queue, which only wakes: what was sent is the database's to know.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from redis.exceptions import RedisError
from tortoise.expressions import Q

from bot.config import PushesConfig, RemindersConfig, TemplatesConfig, sentinel_url
from bot.metrics import Metrics
from bot.state import StateStore
from bot.wechat.api import BUSY, NETWORK, TOKEN_ERRORS, WeChatAPI, WeChatAPIError
from models import Account, Binding, Push, PushState, WeChatUser
from models.push import REMINDER
from models.rules import SHENZHEN

log = logging.getLogger(__name__)

# The worker's job queue, and the job a wake enqueues on it (bot/jobs.py runs it).
QUEUE_NAME = "rb:queue"
WAKE_JOB = "wake_sender"


def queue_settings(url: str) -> RedisSettings:
    """arq's settings for redis.url, a Sentinel URL too: arq then asks the sentinels for the master."""
    sentinel = sentinel_url(url)
    if sentinel is None:
        return RedisSettings.from_dsn(url)
    return RedisSettings(
        host=list(sentinel.sentinels),
        sentinel=True,
        sentinel_master=sentinel.master,
        database=sentinel.db,
        username=sentinel.username,
        password=sentinel.password,
    )


REQUIRE_SUBSCRIBE = 43004
SUBSCRIPTION_REFUSED = 43101  # bizsend: the user has not accepted (or has cancelled) the template
QUOTA = 45009  # the API's daily quota (PROTOCOL.md §8.5): it comes back, so wait
MINUTE_QUOTA = 45011
TRANSIENT = frozenset({BUSY, NETWORK, QUOTA, MINUTE_QUOTA, *TOKEN_ERRORS})
MAX_BACKOFF_S = 3600.0

# WeChat's limits on a template value, by the type its keyword names (`thing1`, `time3`: the type,
# then the keyword's number); time, date and amount values are taken as given. Text is shortened
# with an ellipsis; codes and numbers are cut, as nothing reads a half code better with one.
FIELD_LIMITS: dict[str, tuple[int, bool]] = {
    "thing": (20, True),
    "name": (10, True),
    "phrase": (5, True),
    "character_string": (32, False),
    "number": (32, False),
    "letter": (32, False),
    "symbol": (5, False),
    "car_number": (8, False),
    "phone_number": (17, False),
}


def fit_template_data(data: dict[str, Any]) -> dict[str, Any]:
    """The template's values, each within its keyword type's limit (a plain value or {"value": …})."""
    fitted: dict[str, Any] = {}
    for keyword, field in data.items():
        value = field.get("value", "") if isinstance(field, dict) else field
        text = str(value)
        limit = FIELD_LIMITS.get(keyword.rstrip("0123456789"))
        if limit is not None and len(text) > limit[0]:
            size, ellipsis = limit
            text = text[: size - 1] + "…" if ellipsis else text[:size]
        fitted[keyword] = {**field, "value": text} if isinstance(field, dict) else text
    return fitted


def quiet_until(now: datetime, quiet_hours: str) -> datetime | None:
    """The end of the quiet hours ("HH:MM-HH:MM", Shenzhen time, may pass midnight) `now` is inside, else None."""
    if not quiet_hours:
        return None
    start, end = (clock_time.fromisoformat(part) for part in quiet_hours.split("-"))
    local = now.astimezone(SHENZHEN)
    at = local.time().replace(tzinfo=None)
    inside = start <= at < end if start <= end else (at >= start or at < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, SHENZHEN)
    return ends if ends > local else ends + timedelta(days=1)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PushSender:
    def __init__(
        self,
        config: PushesConfig,
        reminders: RemindersConfig,
        templates: TemplatesConfig,
        wechat: WeChatAPI | None,
        store: StateStore,
        metrics: Metrics,
        *,
        queue_url: str = "",
    ) -> None:
        """`queue_url`: the Redis of the worker's job queue, which `wake()` reaches; empty without Redis."""
        self._config = config
        self._reminders = reminders
        self._templates = templates
        self._wechat = wechat
        self._store = store
        self._metrics = metrics
        self._queue_url = queue_url
        self._queue: ArqRedis | None = None
        self._woken = asyncio.Event()
        self._enqueuing: asyncio.Task[None] | None = None
        self._wake_again = False
        self._next_due: datetime | None = None  # the earliest retry this sender scheduled
        self._said: set[str] = set()  # warnings given once per process

    # -- sending -------------------------------------------------------------------------
    async def send_due(self, now: datetime | None = None) -> int:
        """Send every row due by `now` (default: the clock, read at each claim); the number sent."""
        if self._wechat is None:
            self._say_once("no-client", "pushes wait in the outbox: wechat.app_secret is not set")
            return 0
        clock: Callable[[], datetime] = (lambda: now) if now is not None else _utcnow
        sent = 0
        while True:
            ids = await self._due_ids(clock())
            for push_id in ids:
                row = await self._claim(push_id, clock())
                if row is None:
                    continue
                outcome = await self._send(row, clock())
                if outcome is None:  # WeChat failed, not the row: the rest wait for the next round
                    return sent
                sent += outcome
            if len(ids) < self._config.batch_size:
                return sent

    async def _due_ids(self, now: datetime) -> list[int]:
        due = (
            Push.filter(state=PushState.PENDING, due_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("due_at", "id")
            .limit(self._config.batch_size)
        )
        return [row.id for row in await due.only("id")]

    async def _claim(self, push_id: int, now: datetime) -> Push | None:
        """The row, if this sender got the lease on it: the UPDATE's row count tells, on any database."""
        lease = now + timedelta(seconds=self._config.lease_s)
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        claimed = await Push.filter(free, id=push_id, state=PushState.PENDING, due_at__lte=now).update(
            claimed_until=lease
        )
        return await Push.get(id=push_id) if claimed else None

    async def _send(self, row: Push, now: datetime) -> int | None:
        """1 sent, 0 not (skipped, deferred, failed), None when WeChat failed transiently."""
        quiet_end = quiet_until(now, self._reminders.quiet_hours)
        if quiet_end is not None:
            await self._defer(row, quiet_end)
            return 0
        binding = await Binding.get_or_none(account_id=row.account_id)
        if binding is None:
            await self._close(row, PushState.SKIPPED, "unbound", last_error="no WeChat user bound to the account")
            return 0
        openid = binding.openid
        if await WeChatUser.filter(openid=openid, subscribed=False).exists():
            await self._close(row, PushState.SKIPPED, "unsubscribed", last_error="the user does not follow")
            return 0
        if row.kind == REMINDER and not await Account.filter(id=row.account_id, reminders_enabled=True).exists():
            await self._close(row, PushState.SKIPPED, "opted_out", last_error="reminders turned off (提醒)")
            return 0
        template_id = getattr(self._templates, row.template, "")
        if not template_id:
            self._say_once(
                f"template:{row.template}",
                f"{row.kind} pushes are skipped: wechat.templates.{row.template} is not set",
            )
            await self._close(row, PushState.SKIPPED, "no_template", last_error=f"no template id for {row.template}")
            return 0
        await self._pace()
        assert self._wechat is not None  # send_due returns early without a client
        data = fit_template_data(row.data)
        try:
            if row.kind == REMINDER and self._reminders.channel == "subscribe":
                await self._wechat.send_subscribe(openid, template_id, data, row.url or None)
                msgid = ""  # bizsend answers no msgid
            else:
                msgid = await self._wechat.send_template(
                    openid, template_id, data, row.url or None, client_msg_id=row.client_msg_id
                )
        except WeChatAPIError as exc:
            await self._failed(row, openid, exc, now)
            return None if exc.errcode in TRANSIENT else 0
        await self._close(
            row, PushState.SENT, "sent", openid=openid, msgid=int(msgid) if msgid.isdigit() else None, sent_at=now
        )
        return 1

    async def _failed(self, row: Push, openid: str, exc: WeChatAPIError, now: datetime) -> None:
        error = str(exc)[:200]
        if exc.errcode == REQUIRE_SUBSCRIBE:
            # WeChat says they no longer follow: nothing more goes to them until they follow again.
            await WeChatUser.update_or_create(defaults={"subscribed": False, "unsubscribed_at": now}, openid=openid)
            log.info("push %d (%s, account %d): the user does not follow; skipped", row.id, row.kind, row.account_id)
            await self._close(row, PushState.SKIPPED, "unsubscribed", last_error=error)
            return
        if exc.errcode == SUBSCRIPTION_REFUSED:
            log.info("push %d (%s, account %d): no accepted subscription; skipped", row.id, row.kind, row.account_id)
            await self._close(row, PushState.SKIPPED, "refused", last_error=error)
            return
        attempts = row.attempts + 1
        if exc.errcode not in TRANSIENT or attempts >= self._config.max_attempts:
            log.warning("push %d (%s, account %d) failed after %d attempt(s): %s", row.id, row.kind, row.account_id,
                        attempts, error)  # fmt: skip
            await self._close(row, PushState.FAILED, "failed", attempts=attempts, last_error=error)
            return
        delay = min(self._config.backoff_s * 2 ** (attempts - 1), MAX_BACKOFF_S)
        due_at = now + timedelta(seconds=delay)
        log.info("push %d (%s): %s; retrying in %.0f s", row.id, row.kind, error, delay)
        await Push.filter(id=row.id, state=PushState.PENDING).update(
            attempts=attempts, due_at=due_at, claimed_until=None, last_error=error
        )
        self._metrics.pushes.labels(row.kind, "retry").inc()
        self._next_due = due_at if self._next_due is None else min(self._next_due, due_at)

    async def _defer(self, row: Push, due_at: datetime) -> None:
        """Due again at `due_at`, the claim given up: not an attempt."""
        await Push.filter(id=row.id, state=PushState.PENDING).update(due_at=due_at, claimed_until=None)
        self._metrics.pushes.labels(row.kind, "deferred").inc()
        self._next_due = due_at if self._next_due is None else min(self._next_due, due_at)

    async def _close(self, row: Push, state: PushState, result: str, **fields: Any) -> None:
        # Only a pending row: one whose lease ran out and that another sender finished is left as it is.
        await Push.filter(id=row.id, state=PushState.PENDING).update(state=state, claimed_until=None, **fields)
        self._metrics.pushes.labels(row.kind, result).inc()

    async def _pace(self) -> None:
        """Wait for a slot within reminders.rate_per_second, counted in the state store by clock second,
        so every sender sharing the store (Redis: every process) keeps within it together."""
        while True:
            second = int(time.time())
            if await self._store.incr(f"pushes:rate:{second}", ttl_s=2) <= self._reminders.rate_per_second:
                return
            await asyncio.sleep(max(0.0, second + 1 - time.time()))

    # -- the loop and waking it ---------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Send what is due, then wait for a wake, the next retry or pushes.scan_interval_s; until `stop`."""
        while not stop.is_set():
            self._woken.clear()
            try:
                await self.send_due()
            except Exception:
                # The database or the state store is away: the rows wait, and the next round tries again.
                log.exception("push sender: a round failed; trying again in %.0f s", self._config.scan_interval_s)
            await self._sleep(stop)

    async def _sleep(self, stop: asyncio.Event) -> None:
        timeout = self._config.scan_interval_s
        if self._next_due is not None:
            timeout = max(0.0, min(timeout, (self._next_due - _utcnow()).total_seconds()))
            self._next_due = None
        waits = [asyncio.ensure_future(self._woken.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    def wake(self) -> None:
        """Nudge the sender now, without waiting: this process's loop, and with Redis the worker."""
        self._woken.set()
        if not self._queue_url:
            return
        if self._enqueuing is not None and not self._enqueuing.done():
            # Enqueued once more after the one in flight: it may have been taken before this change.
            self._wake_again = True
            return
        self._enqueuing = asyncio.get_running_loop().create_task(self._enqueue())

    def wake_here(self) -> None:
        """Nudge this process's loop only (the worker's wake job)."""
        self._woken.set()

    async def flush(self) -> None:
        """For a process that runs no sender (a command): with Redis, wake the worker and wait until
        the wake is on its queue; without, send what is due from here, through the same claims."""
        if not self._queue_url:
            await self.send_due()
            return
        self.wake()
        if self._enqueuing is not None:
            await self._enqueuing

    async def close(self) -> None:
        """Finish the wake in flight and close the job queue's connection."""
        if self._enqueuing is not None:
            await self._enqueuing
        if self._queue is not None:
            await self._queue.aclose()
            self._queue = None

    async def _enqueue(self) -> None:
        while True:
            self._wake_again = False
            try:
                if self._queue is None:
                    self._queue = await create_pool(queue_settings(self._queue_url), default_queue_name=QUEUE_NAME)
                # A wake nobody took within a scan interval is moot: the worker has scanned by then.
                await self._queue.enqueue_job(WAKE_JOB, _expires=timedelta(seconds=self._config.scan_interval_s))
            except (RedisError, OSError) as exc:
                log.warning("push sender: the worker was not woken (%s); it finds the pushes within %.0f s", exc,
                            self._config.scan_interval_s)  # fmt: skip
                return
            if not self._wake_again:
                return

    def _say_once(self, key: str, message: str) -> None:
        if key not in self._said:
            self._said.add(key)
            log.warning("push sender: %s", message)
