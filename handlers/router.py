"""Route one push. Events and message kinds map onto the engine's inputs:

- text, and voice with Recognition → the engine (global command, keyword, or the current step)
- CLICK → the flow named by EventKey; subscribe → greeting and menu, or a flow by qrscene_ key
- location message → the current step if it takes one, else the acceptance-point lookup
- LOCATION event → the current step if it takes one, else nothing (WeChat sends it unasked)
- image → the current step (a photo question) or a polite note
- unsubscribe → recorded (by ctx.services.followers), conversation dropped; other events → no reply
- any other kind → a short polite text
"""

from __future__ import annotations

from bot.wechat.message import Incoming
from conversations.engine import Engine, Outcome
from conversations.flow import Context, Image, Location
from conversations.keys import MenuKey
from handlers import texts

State = dict | None


class Router:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def route(self, msg: Incoming, state: State, ctx: Context) -> Outcome:
        if msg.msg_type == "event":
            return await self._event(msg, state, ctx)
        if msg.msg_type == "text":
            return await self.engine.handle(state, msg.content, ctx)
        if msg.msg_type == "voice":
            text = msg.get("Recognition").strip()
            if not text:
                return Outcome(texts.VOICE_UNRECOGNISED, state)
            return await self.engine.handle(state, text, ctx)
        if msg.msg_type == "location":
            place = _location(msg)
            if place is None:
                return Outcome(texts.UNSUPPORTED, state)
            if self.engine.wants_location(state, ctx):
                return await self.engine.handle(state, place, ctx)
            return await self.engine.start(MenuKey.ACCEPTANCE_POINTS, ctx, first=place)
        if msg.msg_type == "image":
            return await self.engine.handle(state, Image(msg.get("MediaId")), ctx)
        return Outcome(texts.UNSUPPORTED, state)

    async def _event(self, msg: Incoming, state: State, ctx: Context) -> Outcome:
        event = msg.event
        if event == "subscribe":
            await ctx.services.followers.record_subscription(msg.openid, subscribed=True, now=ctx.now)
            scene = msg.event_key.removeprefix("qrscene_") if msg.event_key.startswith("qrscene_") else ""
            return await self._welcome(scene, ctx)
        if event == "SCAN":
            key = MenuKey.from_event_key(msg.event_key)
            return await self.engine.start(key, ctx) if key else Outcome("", state)
        if event == "unsubscribe":
            await ctx.services.followers.record_subscription(msg.openid, subscribed=False, now=ctx.now)
            return Outcome("", None)
        if event == "CLICK":
            key = MenuKey.from_event_key(msg.event_key)
            if key is None:
                return Outcome(self.engine.menu(), state)
            return await self.engine.start(key, ctx)
        if event == "LOCATION":
            place = _location(msg)
            if place is not None and self.engine.wants_location(state, ctx):
                return await self.engine.handle(state, place, ctx)
        return Outcome("", state)  # VIEW, TEMPLATESENDJOBFINISH, subscribe_msg_*, and new kinds

    async def _welcome(self, scene: str, ctx: Context) -> Outcome:
        key = MenuKey.from_event_key(scene)
        if key is not None and key in self.engine.flows:
            return await self.engine.start(key, ctx, notice=texts.GREETING + "\n\n")
        return Outcome(texts.GREETING + "\n\n" + self.engine.menu(), None)


def _location(msg: Incoming) -> Location | None:
    point = msg.location
    if point is None:
        return None
    return Location(point[0], point[1], msg.get("Label"))
