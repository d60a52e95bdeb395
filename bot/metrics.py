"""Prometheus metrics, one registry per app (tests build many apps in one process)."""

from __future__ import annotations

from functools import cache

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# The label values of rb_messages: the MsgTypes and Events of PROTOCOL.md §4.3–4.4. Anything else
# counts as "other": the strings come from the push, and each new value would be a new time series.
MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})
EVENTS = frozenset(
    {
        "subscribe",
        "unsubscribe",
        "SCAN",
        "LOCATION",
        "CLICK",
        "VIEW",
        "TEMPLATESENDJOBFINISH",
        "subscribe_msg_popup_event",
        "subscribe_msg_change_event",
        "subscribe_msg_sent_event",
    }
)


def message_label(msg_type: str, event: str) -> str:
    """The rb_messages label of a push: its MsgType, an event's Event, or "other"."""
    if msg_type == "event":
        return event if event in EVENTS else "other"
    return msg_type if msg_type in MESSAGE_TYPES else "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter("rb_messages", "Pushes received, by MsgType (events by Event)", ["type"], registry=r)
        self.rejected = Counter(
            "rb_rejected_requests", "Callback requests refused, by HTTP status", ["status"], registry=r
        )
        self.replies = Counter(
            "rb_replies",
            "Replies, by kind (text, news, none, duplicate, late, limited: over limits.messages_per_user_per_minute)",
            ["kind"],
            registry=r,
        )
        self.flow_starts = Counter("rb_flow_starts", "Flows started", ["flow"], registry=r)
        self.flow_completions = Counter("rb_flow_completions", "Flows completed", ["flow"], registry=r)
        self.errors = Counter("rb_handler_errors", "Deliveries whose handling raised", registry=r)
        self.latency = Histogram(
            "rb_handling_seconds",
            "Time from a valid push to its reply",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.pushes = Counter("rb_pushes", "Messages sent through the API, by result", ["kind", "result"], registry=r)
        self.sms_refusals = Counter(
            "rb_sms_refusals",
            "SMS codes refused before sending, by purpose and the limit reached (user, numbers, phone, budget)",
            ["purpose", "reason"],
            registry=r,
        )
        self.login_refusals = Counter(
            "rb_login_refusals",
            "Passwords not checked, by reason (locked, rate: the WeChat user's tries a minute, busy: the pool)",
            ["reason"],
            registry=r,
        )
        # The per-delivery counters' children, each looked up once: `.labels()` validates its
        # arguments and takes a lock on every call. A child lives as long as its metric anyway.
        self.messages_of = cache(self.messages.labels)
        # The outbox, read from the database when /metrics is scraped (bot/app.py): the same numbers
        # from every process that shares the database, and the only ones of the worker's sending,
        # which serves no /metrics. NaN when the database did not answer.
        self.outbox_due = Gauge("rb_outbox_due", "Pushes due and not yet sent", registry=r)
        self.outbox_oldest_due = Gauge(
            "rb_outbox_oldest_due_seconds", "How long the longest-waiting due push has waited (0: none)", registry=r
        )
        self.outbox_failed = Gauge("rb_outbox_failed", "Pushes given up (failed), ever", registry=r)
        self.replies_of = cache(self.replies.labels)
        self.flow_starts_of = cache(self.flow_starts.labels)
        self.flow_completions_of = cache(self.flow_completions.labels)
        self.sms_refusals_of = cache(self.sms_refusals.labels)
        self.login_refusals_of = cache(self.login_refusals.labels)
