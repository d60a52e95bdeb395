"""Route one push: turn it into the engine's input, once, and hand it over.

- text, and voice with Recognition → text
- CLICK (and SCAN) → the flow named by EventKey
- location message → a location; LOCATION event → a location WeChat reported on its own
- image → an image
- subscribe → greeting and menu, or a flow by qrscene_ key; unsubscribe → recorded, conversation dropped
- other events → no reply; any other kind of message → a short polite text
The engine decides what an input means where the conversation stands; routing writes nothing itself.
"""

from __future__ import annotations

from typing import Any

from bot.wechat.message import Incoming
from conversations.engine import Engine, Outcome
from conversations.flow import Click, Context, Image, Input, Location
from conversations.keys import MenuKey
from handlers import texts

State = dict[str, Any] | None


class Router:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def route(self, msg: Incoming, state: State, ctx: Context) -> Outcome:
        if msg.msg_type == "event":
            return await self._event(msg, state, ctx)
        if msg.msg_type == "voice" and not msg.get("Recognition").strip():
            return Outcome(texts.VOICE_UNRECOGNISED, state)
        inp = _input(msg)
        if inp is None:
            return Outcome(texts.UNSUPPORTED, state)
        return await self.engine.handle(state, inp, ctx)

    async def _event(self, msg: Incoming, state: State, ctx: Context) -> Outcome:
        event = msg.event
        if event == "subscribe":
            await ctx.services.followers.record_subscription(msg.openid, subscribed=True, now=ctx.now)
            scene = msg.event_key.removeprefix("qrscene_") if msg.event_key.startswith("qrscene_") else ""
            return await self._welcome(scene, ctx)
        if event == "unsubscribe":
            await ctx.services.followers.record_subscription(msg.openid, subscribed=False, now=ctx.now)
            return Outcome("", None)
        if event in ("CLICK", "SCAN"):
            key = MenuKey.from_event_key(msg.event_key)
            if key is None:
                return Outcome(await self.engine.menu(ctx) if event == "CLICK" else "", state)
            return await self.engine.handle(state, Click(key), ctx)
        if event == "LOCATION":
            point = msg.location
            if point is not None:
                return await self.engine.handle(state, Location(point[0], point[1], reported=True), ctx)
        return Outcome("", state)  # VIEW, TEMPLATESENDJOBFINISH, subscribe_msg_*, and new kinds

    async def _welcome(self, scene: str, ctx: Context) -> Outcome:
        key = MenuKey.from_event_key(scene)
        if key is not None and key in self.engine.flows:
            return await self.engine.start(key, ctx, notice=texts.GREETING + "\n\n")
        return Outcome(texts.GREETING + "\n\n" + await self.engine.menu(ctx), None)


def _input(msg: Incoming) -> Input | None:
    if msg.msg_type == "text":
        return msg.content
    if msg.msg_type == "voice":
        return msg.get("Recognition").strip()
    if msg.msg_type == "location":
        point = msg.location
        return None if point is None else Location(point[0], point[1], msg.get("Label"))
    if msg.msg_type == "image":
        return Image(msg.get("MediaId"))
    return None
