"""The flow engine: the only place that decides what comes next.

Every kind of input (text, a recognised voice message, a location, an image, a menu click)
comes in through `Engine.handle`, once; the engine gives it to the current step, or starts the
flow it asks for. A saved conversation is plain JSON:

    {"v": 2, "flow": "ENDORSE", "fv": "<flow version>", "step": "endorse.phone" | "review",
     "answers": {...}, "facts": {...}, "history": [steps asked before this one],
     "editing": false, "shown": {step: choices shown}, "item": {"at": n | null, "answers": {...}},
     "sid": "<submission id, fixed when the review is shown>", "pending": {...}, "then": "<flow>",
     "updated_at": <epoch s>}

After a submit it is {"v": 2, "flow": ..., "done": "<reference>", "updated_at": ...}, so a
repeated 确认 is answered with the reference. A state of another version restarts politely.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from bot.services.errors import Told
from bot.services.submissions import Submitted
from bot.text import normalise
from bot.wechat.reply import Reply
from conversations import phrases, texts
from conversations.flow import (
    EVERYONE,
    Again,
    Asked,
    Audience,
    Checked,
    Choice,
    Click,
    Context,
    Ended,
    Filled,
    Finished,
    Flow,
    Group,
    Image,
    Input,
    Location,
    Missing,
    Noted,
    Step,
    choose,
)
from conversations.help import INDEX as HELP_INDEX
from conversations.help import Help
from conversations.keys import CONFIRM_WORDS, LEAVE_FORM, Command, MenuKey
from conversations.menu import in_menu_order, text_menu
from conversations.parsers import Invalid

STATE_VERSION = 2
LISTED_WHILE_ADDING = 5  # items listed after each one added; more are counted (one phone screen)
REVIEW = "review"
SEALED = "sealed"  # {"sealed": "<AES-GCM token>"}: an answer kept encrypted in the saved state
_EDIT = re.compile(r"^修改\s*(\d+)$")
_DELETE = re.compile(r"^删除\s*(\d+)$")
_ADD_MORE = frozenset({"继续添加", "继续", "添加", "再加一个", "1"})
_DONE = frozenset({"完成", "好了", "没有了", "2"})
_GO_ON = frozenset({"继续", "继续填写", "接着填"})
_LEAVE = frozenset({"离开", "放弃", "换一个"})
_SHOW_REVIEW = frozenset({"查看", "核对"})

State = dict[str, Any]
AudienceOf = Callable[[Context], Awaitable[Audience]]


@dataclass(frozen=True, slots=True)
class Outcome:
    reply: Reply
    state: State | None
    started: MenuKey | None = None
    completed: MenuKey | None = None


async def _anyone(ctx: Context) -> Audience:
    return Audience.STRANGER


class Engine:
    def __init__(
        self, flows: Sequence[Flow], idle_timeout: timedelta, help: Help, audience: AudienceOf = _anyone
    ) -> None:
        self.flows = {flow.key: flow for flow in flows}
        self.help = help
        self._by_name = {key.name: flow for key, flow in self.flows.items()}  # as saved in a state's "flow"
        self.idle_timeout = idle_timeout
        self.audience = audience
        self._sensitive = frozenset(s.name for flow in flows for s in flow.all_steps if s.sensitive)
        self._sealable = self._sensitive | {g.name for flow in flows for g in flow.groups}
        self._fitted = any(f.offered_to != EVERYONE for f in flows)  # whether the menu depends on who asks

    # -- the menu --------------------------------------------------------------------------
    async def offered(self, ctx: Context) -> list[MenuKey]:
        """The flows that fit who is asking, in menu order."""
        who = await self.audience(ctx) if self._fitted else None
        return in_menu_order([key for key, f in self.flows.items() if who is None or who in f.offered_to])

    async def menu(self, ctx: Context, *, footer: str = texts.MENU_FOOTER) -> str:
        """Built from the flows that exist and fit, so it never offers what is not there."""
        return texts.MENU.format(items=text_menu(await self.offered(ctx)), footer=footer)

    async def _numbered(self, text: str, offer: list[str] | None, ctx: Context) -> MenuKey | None:
        """A bare number: the service of that number in the "您是想…" just offered, else in the menu."""
        if not text.isdigit():
            return None
        keys = [MenuKey[name] for name in offer] if offer else await self.offered(ctx)
        return keys[int(text) - 1] if 1 <= int(text) <= len(keys) else None

    # -- entry points ------------------------------------------------------------------------
    async def start(self, key: MenuKey, ctx: Context, *, notice: str = "") -> Outcome:
        """Start the flow of `key` (a greeting's QR scene)."""
        return self._sealed(await self._start(key, ctx, notice=notice), ctx)

    async def handle(self, state: State | None, inp: Input, ctx: Context) -> Outcome:
        """What `inp` does where the conversation stands: the reply and the state to save."""
        return _lean(self._sealed(await self._handle(self._opened(state, ctx), inp, ctx), ctx))

    async def _start(
        self, key: MenuKey, ctx: Context, *, notice: str = "", first: Input | None = None, then: str | None = None
    ) -> Outcome:
        flow = self.flows.get(key)
        if flow is None:
            return Outcome(
                notice + texts.NOT_AVAILABLE.format(keyword=key.keyword) + "\n\n" + await self.menu(ctx), None
            )
        missing = await _unmet(flow, ctx)
        if missing is not None:
            # Remembered, so that once the resident has done what was missing the flow carries on.
            waiting = self._touch({"v": STATE_VERSION, "then": key.name}, ctx) if missing.via else None
            return Outcome(notice + missing.message, waiting)
        state: State = {
            "v": STATE_VERSION,
            "flow": key.name,
            "fv": flow.version,
            "answers": {},
            "facts": {},
            "history": [],
            "editing": False,
        }
        if then and then != key.name:
            state["then"] = then
        intro = f"{flow.intro}\n\n" if flow.intro else ""
        state["step"] = ""
        outcome = await self._forward(flow, state, ctx, after=None)
        if first is None or outcome.state is None or outcome.state.get("step") in (None, REVIEW):
            return replace(outcome, reply=_prefixed(notice + intro, outcome.reply), started=key)
        answered = await self._answer(flow, outcome.state, first, ctx)
        return replace(answered, reply=_prefixed(notice, answered.reply), started=key)

    async def _handle(self, state: State | None, inp: Input, ctx: Context) -> Outcome:
        notice = ""
        if state is not None and self._expired(state, ctx):
            # Only a flow in progress lost anything; an old "submitted" marker just goes.
            lost = self._flow_of(state) if "step" in state else None
            state = None
            if lost is not None:
                notice = texts.TIMED_OUT.format(
                    minutes=int(self.idle_timeout.total_seconds() // 60), title=lost.title, keyword=lost.key.keyword
                )
                if not _asks_for_something(inp):
                    # The answer was meant for the question that timed out: the notice is the whole reply.
                    return Outcome(notice, None)
                notice += "\n\n"
        offer = None
        if state is not None and "offer" in state:  # good for this one message
            state = dict(state)
            offer = state.pop("offer")
        active = state is not None and "step" in state
        flow = self._flow_of(state) if active else None
        if (
            active
            and state is not None
            and (flow is None or state.get("fv") != flow.version or state.get("v") != STATE_VERSION)
        ):
            return await self._restart(flow, ctx)
        if state is not None and state.get("v") != STATE_VERSION:
            state = None
        if isinstance(inp, Location) and inp.reported:
            # WeChat reports the resident's position on its own: only a question that asks for it takes it.
            if flow is not None and state is not None and _takes(flow, state):
                return await self._answer(flow, state, inp, ctx)
            return Outcome("", state)
        text = normalise(inp) if isinstance(inp, str) else None

        if text is not None:
            command = Command.parse(text)
            if command in (Command.MENU, Command.HELP):
                resume = texts.RESUME.format(title=flow.title) if flow else ""
                footer = HELP_INDEX if command is Command.HELP else texts.MENU_FOOTER
                return Outcome(notice + await self.menu(ctx, footer=footer) + resume, state)
            if command is Command.CANCEL or (flow is not None and text in LEAVE_FORM):
                reply = texts.CANCELLED if flow else texts.NOTHING_TO_CANCEL
                return Outcome(notice + reply + "\n\n" + await self.menu(ctx), None)

        wanted = await self._wanted(inp, text, flow, state, notice, ctx, offer)
        if flow is None or state is None:
            if wanted is not None:
                then = state.get("then") if state else None
                first = inp if isinstance(inp, Location) else None
                return await self._start(wanted, ctx, notice=notice, first=first, then=then)
            return await self._idle(state, inp, text, notice, ctx)

        if wanted is not None:
            return self._interrupted(flow, state, wanted, inp, ctx)
        state = dict(state)
        pending = state.pop("pending", None)  # an answer instead of 继续/离开 goes on with the form
        if pending is not None and text in _GO_ON:
            return await self._reask(flow, state, ctx, "")
        if pending is not None and text in _LEAVE:
            first = Location(**pending["first"]) if pending.get("first") else None
            return await self._start(MenuKey[pending["flow"]], ctx, first=first)
        if text is not None and Command.parse(text) is Command.BACK:
            return await self._back(flow, state, ctx)
        if state["step"] == REVIEW:
            return await self._review(flow, state, text, ctx)
        group = flow.group_of(state["step"])
        if group is not None and state["step"] == group.more:
            return await self._more(flow, group, state, text, ctx)
        return await self._answer(flow, state, inp, ctx)

    async def _wanted(
        self,
        inp: Input,
        text: str | None,
        flow: Flow | None,
        state: State | None,
        notice: str,
        ctx: Context,
        offer: list[str] | None = None,
    ) -> MenuKey | None:
        """The flow this input asks for, if it asks for one rather than answering the current step."""
        if isinstance(inp, Click):
            return inp.key
        if text is not None:
            key = MenuKey.from_keyword(text)
            if key is not None:
                return key
            # A bare number picks from the menu only outside a flow, and not as the answer to a
            # timeout notice (it was meant for the question that timed out).
            return None if flow or notice else await self._numbered(text, offer, ctx)
        if isinstance(inp, Location) and not (flow and state and _takes(flow, state)):
            return next((f.key for f in self.flows.values() if Location in f.takes), None)
        return None

    # -- states ------------------------------------------------------------------------------
    async def _idle(self, state: State | None, inp: Input, text: str | None, notice: str, ctx: Context) -> Outcome:
        if state is not None and state.get("done") and text in CONFIRM_WORDS:
            return Outcome(notice + texts.ALREADY_SUBMITTED.format(reference=state["done"]), state)
        if isinstance(inp, Image):
            return Outcome(notice + texts.IMAGE_NOT_EXPECTED, state)
        if text is None:
            return Outcome(notice + texts.NOT_UNDERSTOOD + "\n\n" + await self.menu(ctx), state)
        understood = phrases.understand(text, await self.offered(ctx))
        answer = self.help.answer(text, understood.keys)
        if answer is not None:
            return Outcome(notice + answer, state)
        if len(understood.keys) == 1:
            then = state.get("then") if state else None
            return await self._start(understood.keys[0], ctx, notice=notice, then=then)
        if understood.keys:
            offered = understood.keys[: phrases.MAX_OFFERED]
            # Kept for the next message only: a bare number then picks from this offer, not the menu.
            offering = self._touch({**(state or {"v": STATE_VERSION}), "offer": [k.name for k in offered]}, ctx)
            return Outcome(notice + phrases.offer(offered), offering)
        return Outcome(notice + (understood.small_talk or phrases.NOTHING_FITS), state)

    def _interrupted(self, flow: Flow, state: State, wanted: MenuKey, inp: Input, ctx: Context) -> Outcome:
        """Another flow asked for in the middle of a form: say which form is open, and offer to go on or leave."""
        if wanted == flow.key:
            return Outcome(
                texts.ALREADY_IN.format(title=flow.title) + "\n\n" + self._current(flow, state), self._touch(state, ctx)
            )
        first = {"lat": inp.lat, "lng": inp.lng, "label": inp.label} if isinstance(inp, Location) else None
        item = state.get("item") or {}
        count = len(state["answers"]) + len(item.get("answers", {}))
        filled = texts.FILLED.format(count=count) if count else texts.NOTHING_FILLED
        reply = texts.INTERRUPTED.format(title=flow.title, filled=filled, new=wanted.keyword)
        return Outcome(reply, self._touch({**state, "pending": {"flow": wanted.name, "first": first}}, ctx))

    async def _restart(self, flow: Flow | None, ctx: Context) -> Outcome:
        if flow is None:
            return Outcome(texts.FLOW_GONE + "\n\n" + await self.menu(ctx), None)
        return await self._start(flow.key, ctx, notice=texts.FLOW_CHANGED + "\n\n")

    # -- asking and answering -------------------------------------------------------------
    async def _answer(self, flow: Flow, state: State, inp: Input, ctx: Context) -> Outcome:
        step = flow.step(state["step"])
        group = flow.group_of(step.name)
        item = state.get("item") or {"at": None, "answers": {}}
        scope = item["answers"] if group else state["answers"]
        filled = Filled(scope, state.get("facts", {}))
        shown = _shown(state, step)
        try:
            value = _parse(step, inp, Asked(ctx.today, scope, shown), shown)
            if step.check is not None:
                value = await step.check(value, ctx, filled)
        except Again as again:
            return await self._ask(flow, state, step, ctx, notice=again.message + "\n\n", push=False, act=True)
        except Ended as ended:
            return Outcome(ended.message, None)
        except Invalid as exc:
            if isinstance(inp, str):
                aside = await self._aside(flow, state, normalise(inp), inp, ctx)
                if aside is not None:
                    return aside
            return Outcome(f"{exc.message}\n{step.again(shown)}", self._touch(state, ctx))
        except Told as exc:
            return Outcome(f"{exc.message}\n{step.again(shown)}", self._touch(state, ctx))
        note = ""
        if isinstance(value, Noted):
            note, value = value.note + "\n", value.value
        facts = dict(state.get("facts", {}))
        if isinstance(value, Checked):
            facts.update(value.facts)
            value = value.value
        answers = _void_dependents(flow, scope, step.name, value)
        if group is not None:
            state = {**state, "facts": facts, "item": {**item, "answers": _prune(group.steps, answers, facts)}}
            outcome = await self._forward_in_item(flow, group, state, ctx, after=step.name)
        else:
            state = {**state, "facts": facts, "answers": _prune(tuple(flow.all_steps), answers, facts)}
            outcome = await self._forward(flow, state, ctx, after=step.name)
        return replace(outcome, reply=_prefixed(note, outcome.reply)) if note else outcome

    async def _aside(self, flow: Flow, state: State, text: str, inp: Input, ctx: Context) -> Outcome | None:
        """Words that are not an answer but a question (要带什么), a thanks, or another service in
        the resident's own words (我的申请到哪一步了): answered, or offered, with the form kept. The
        small-talk reply ends with the question again, as every answer here does."""
        understood = phrases.understand(text, await self.offered(ctx))
        answer = self.help.answer(text, (flow.key, *understood.keys)) or understood.small_talk
        if answer is not None:
            return Outcome(f"{answer}\n\n{self._current(flow, state)}", self._touch(state, ctx))
        others = [key for key in understood.keys if key != flow.key]
        return self._interrupted(flow, state, others[0], inp, ctx) if others else None

    async def _forward(self, flow: Flow, state: State, ctx: Context, *, after: str | None) -> Outcome:
        """Ask what comes after `after` (a step or a group name; None: from the top). From 修改 N,
        only questions the change newly calls for come before the review again."""
        editing = bool(state.get("editing"))
        filled = Filled(state["answers"], state.get("facts", {}))
        names = [p.name for p in flow.steps]
        start = 0 if after is None or editing else names.index(after) + 1
        for part in flow.steps[start:]:
            if not part.applies(filled):
                continue
            if isinstance(part, Group):
                done = part.name in state["answers"]  # 「完成」 was said: with items, or none needed
                if editing and done and (state["answers"][part.name] or not part.needs_items(filled)):
                    continue
                return await self._new_item(flow, part, state, ctx)
            if editing and part.name in state["answers"]:
                continue
            return await self._ask(flow, state, part, ctx)
        state = {**state, "editing": False}
        if flow.review:
            state = {**state, "sid": state.get("sid") or uuid.uuid4().hex}
            return self._show_review(flow, self._moved(state, REVIEW), ctx)
        return await self._submit(flow, state, ctx)

    async def _ask(
        self,
        flow: Flow,
        state: State,
        step: Step,
        ctx: Context,
        *,
        notice: str = "",
        push: bool = True,
        act: bool | None = None,
    ) -> Outcome:
        """Move to `step`: do what asking it does, then put the question (with the answer kept, if any)."""
        group = flow.group_of(step.name)
        scope = (state.get("item") or {}).get("answers", {}) if group else state["answers"]
        filled = Filled(scope, state.get("facts", {}))
        before = state
        state = self._moved(state, step.name) if push else state
        try:
            # What asking does is done for a question not yet answered (返回 to an answered one
            # sends no second code), or when the answer asks for it again (「重发」).
            if step.on_ask is not None and (act if act is not None else step.name not in scope):
                await step.on_ask(ctx, filled)
            if step.choices_from is not None:
                choices = tuple(await step.choices_from(ctx, filled))
                state = {**state, "shown": {**state.get("shown", {}), step.name: [_saved(c) for c in choices]}}
        except Ended as ended:  # asking showed the form cannot go on now (an hourly limit reached)
            return Outcome(notice + ended.message, None)
        except Told as exc:
            # Asking could not be done (the SMS gateway refused): the conversation stays where it
            # was, so the answer that led here can be given again (or changed).
            if not before.get("step"):
                return Outcome(notice + exc.message, None)
            return Outcome(f"{notice}{exc.message}\n\n{self._current(flow, before)}", self._touch(before, ctx))
        hint = texts.KEPT_ANSWER.format(value=step.show(scope[step.name])) if step.name in scope else ""
        return Outcome(notice + step.prompt(_shown(state, step)) + hint, self._touch(state, ctx))

    async def _reask(self, flow: Flow, state: State, ctx: Context, notice: str) -> Outcome:
        """The current question again, as it was put (no action repeated)."""
        return Outcome(notice + self._current(flow, state), self._touch(state, ctx))

    def _current(self, flow: Flow, state: State) -> str:
        if state["step"] == REVIEW:
            return self._review_text(flow, state)
        group = flow.group_of(state["step"])
        if group is not None and state["step"] == group.more:
            return self._more_prompt(group, state)
        step = flow.step(state["step"])
        return step.prompt(_shown(state, step))

    # -- groups ------------------------------------------------------------------------------
    async def _new_item(self, flow: Flow, group: Group, state: State, ctx: Context) -> Outcome:
        state = {**state, "item": {"at": None, "answers": {}}}
        return await self._forward_in_item(flow, group, state, ctx, after=None)

    async def _forward_in_item(
        self, flow: Flow, group: Group, state: State, ctx: Context, *, after: str | None
    ) -> Outcome:
        item = state["item"]
        filled = Filled(item["answers"], state.get("facts", {}))
        names = [s.name for s in group.steps]
        start = 0 if after is None else names.index(after) + 1
        for step in group.steps[start:]:
            if step.applies(filled):
                return await self._ask(flow, state, step, ctx)
        items = list(state["answers"].get(group.name, []))
        kept = dict(item["answers"])
        try:
            if group.check_item is not None:
                others = [x for i, x in enumerate(items) if i != item["at"]]
                kept = dict(await group.check_item(ctx, kept, others))
        except Told as exc:  # this one is refused; the batch goes on
            state = {**state, "item": None}
            return self._ask_more(flow, group, state, ctx, notice=exc.message + "\n\n")
        if item["at"] is None:
            items.append(kept)
        else:
            items[item["at"]] = kept
        state = {**state, "answers": {**state["answers"], group.name: items}, "item": None}
        if state.get("editing"):
            return await self._forward(flow, state, ctx, after=group.name)
        added = texts.ITEM_ADDED.format(item=group.item, line=group.describe(kept)) + "\n"
        return self._ask_more(flow, group, state, ctx, notice=added)

    def _ask_more(self, flow: Flow, group: Group, state: State, ctx: Context, *, notice: str = "") -> Outcome:
        state = self._moved(state, group.more)
        return Outcome(notice + self._more_prompt(group, state), self._touch(state, ctx))

    def _more_prompt(self, group: Group, state: State) -> str:
        items = state["answers"].get(group.name, [])
        if len(items) > LISTED_WHILE_ADDING:  # a long batch is listed at the review, not after every one
            head = texts.ITEMS_COUNTED.format(n=len(items), item=group.item)
        else:
            listed = "\n".join(f"{i}. {group.describe(x)}" for i, x in enumerate(items, 1))
            head = texts.ITEMS_SO_FAR.format(n=len(items), item=group.item, lines=listed) if items else ""
        return head + texts.ADD_MORE.format(item=group.item)

    async def _more(self, flow: Flow, group: Group, state: State, text: str | None, ctx: Context) -> Outcome:
        items = state["answers"].get(group.name, [])
        if text in _ADD_MORE:
            limit = group.max_items(ctx)
            if len(items) >= limit:
                return Outcome(
                    texts.ITEMS_FULL.format(n=limit, item=group.item) + "\n" + self._more_prompt(group, state),
                    self._touch(state, ctx),
                )
            return await self._new_item(flow, group, state, ctx)
        if text in _DONE:
            if not items and group.needs_items(Filled(state["answers"], state.get("facts", {}))):
                return Outcome(
                    texts.NO_ITEMS.format(item=group.item) + "\n" + self._more_prompt(group, state),
                    self._touch(state, ctx),
                )
            state = {**state, "answers": {**state["answers"], group.name: items}}
            return await self._forward(flow, state, ctx, after=group.name)
        return Outcome(texts.MORE_EXPECTED, self._touch(state, ctx))

    # -- back, review, submit --------------------------------------------------------------
    async def _back(self, flow: Flow, state: State, ctx: Context) -> Outcome:
        if state.get("editing"):  # from 修改 N: back to the review, nothing changed
            return self._show_review(flow, {**state, "step": REVIEW, "editing": False, "item": None}, ctx)
        history = list(state.get("history", []))
        facts = state.get("facts", {})
        while history:  # the steps actually asked, less those whose condition no longer holds
            name = history.pop()
            group = flow.group_of(name)
            if group is not None and name == group.more:  # the item being added is dropped
                back = {**state, "history": history, "item": None, "step": name}
                return Outcome(self._more_prompt(group, back), self._touch(back, ctx))
            step = flow.step(name)
            if group is not None:
                item = state.get("item")
                if not item or not item.get("answers"):
                    items = state["answers"].get(group.name, [])
                    if not items:
                        continue
                    item = {"at": len(items) - 1, "answers": dict(items[-1])}
                if step.applies(Filled(item["answers"], facts)):
                    return await self._ask(
                        flow, {**state, "history": history, "item": item, "step": name}, step, ctx, push=False
                    )
                continue
            if step.applies(Filled(state["answers"], facts)) and step.name in state["answers"]:
                back = {**state, "history": history, "step": name, "item": None}
                return await self._ask(flow, back, step, ctx, push=False)
        return Outcome(texts.AT_FIRST + "\n\n" + self._current(flow, state), self._touch(state, ctx))

    def _show_review(self, flow: Flow, state: State, ctx: Context, notice: str = "") -> Outcome:
        return Outcome(notice + self._review_text(flow, state), self._touch(state, ctx))

    async def _review(self, flow: Flow, state: State, text: str | None, ctx: Context) -> Outcome:
        if text in CONFIRM_WORDS:
            if flow.review and state.get("sid") and await ctx.services.submissions.done(state["sid"]):
                # A repeat of a 确认 another process has carried out: its answer, not a check of what
                # that submission itself changed (a permit endorsed is no longer in its window).
                return await self._submit(flow, state, ctx)
            missing = await _unmet(flow, ctx)
            if missing is not None:  # something changed since the start (an account unbound, a rule no longer met)
                return Outcome(missing.message + "\n\n" + texts.CONFIRM_LATER, self._touch(state, ctx))
            unanswered = await self._forward(flow, {**state, "editing": True}, ctx, after=None)
            if unanswered.state is not None and unanswered.state.get("step") != REVIEW:
                return unanswered  # left by 返回 from a question a change called for
            return await self._submit(flow, state, ctx)
        if text in _SHOW_REVIEW:
            return self._show_review(flow, state, ctx)
        lines = _review_lines(flow, state)
        edit, delete = _EDIT.match(text or ""), _DELETE.match(text or "")
        if edit or delete:
            n = int((edit or delete).group(1))  # type: ignore[union-attr]
            if not 1 <= n <= len(lines):
                notice = texts.NO_SUCH_ITEM.format(n=n, count=len(lines)) + "\n\n"
                return self._show_review(flow, state, ctx, notice)
            part, index = lines[n - 1][0], lines[n - 1][1]
            if delete:
                if not isinstance(part, Group):
                    return Outcome(texts.DELETE_ONLY_ITEMS, self._touch(state, ctx))
                items = [x for i, x in enumerate(state["answers"][part.name]) if i != index]
                state = {**state, "answers": {**state["answers"], part.name: items}}
                return self._show_review(flow, state, ctx, texts.ITEM_DELETED.format(item=part.item) + "\n\n")
            editing = {**state, "editing": True, "history": []}
            if isinstance(part, Group):
                item: dict[str, Any] = {"at": index, "answers": dict(state["answers"][part.name][index])}
                first = next(s for s in part.steps if s.applies(Filled(item["answers"], state.get("facts", {}))))
                return await self._ask(flow, {**editing, "item": item}, first, ctx)
            # Asked again on purpose: what asking does is done again (修改 on the SMS item sends a new code).
            return await self._ask(flow, editing, part, ctx, act=True)
        aside = await self._aside(flow, state, text, text, ctx) if text else None
        if aside is not None:
            return aside
        return Outcome(texts.REVIEW_EXPECTED, self._touch(state, ctx))

    async def _submit(self, flow: Flow, state: State, ctx: Context) -> Outcome:
        filled = Filled(state["answers"], state.get("facts", {}))
        try:
            if flow.review:  # what the resident confirmed is done once, whatever is delivered twice
                sid = state["sid"]
                finished: Finished | Submitted = await ctx.services.submissions.once(
                    sid, flow.key.name, ctx.openid, lambda: flow.submit(replace(ctx, submission_id=sid), filled)
                )
            else:  # answers, lookups and bindings that may as well run again
                finished = await flow.submit(ctx, filled)
        except Told as exc:  # found wrong only on submit (a conflict, a service down): nothing lost
            if flow.review:  # the review was just shown: what to do now, not the whole of it again
                return Outcome(f"{exc.message}\n\n{texts.REVIEW_EXPECTED}", self._touch(state, ctx))
            return (
                Outcome(exc.message + "\n\n" + self._current(flow, state), self._touch(state, ctx))
                if state.get("step")
                else Outcome(exc.message, None)
            )
        then = state.get("then")
        if then and then in self._by_name and then != flow.key.name:
            following = await self._start(MenuKey[then], ctx)
            return Outcome(
                _prefixed(_text(finished.reply) + "\n\n", following.reply),
                following.state,
                started=following.started,
                completed=flow.key,
            )
        if finished.reference is None:
            return Outcome(finished.reply, None, completed=flow.key)
        done = {"v": STATE_VERSION, "flow": flow.key.name, "done": finished.reference}
        return Outcome(finished.reply, self._touch(done, ctx), completed=flow.key)

    # -- helpers -----------------------------------------------------------------------------
    def _review_text(self, flow: Flow, state: State) -> str:
        lines = []
        for i, (part, index) in enumerate(_review_lines(flow, state), 1):
            if isinstance(part, Group):
                lines.append(f"{i}. {part.item}：{part.describe(state['answers'][part.name][index])}")
            else:
                lines.append(f"{i}. {part.label}：{part.show(state['answers'][part.name])}")
        note = flow.review_note(Filled(state["answers"], state.get("facts", {}))) if flow.review_note else ""
        if note:
            lines.append(f"\n{note}")
        groups = any(True for _ in flow.groups)
        return texts.REVIEW.format(title=flow.title, lines="\n".join(lines)) + (texts.REVIEW_ITEMS if groups else "")

    def _flow_of(self, state: State | None) -> Flow | None:
        return self._by_name.get(state.get("flow", "")) if state else None

    def _expired(self, state: State, ctx: Context) -> bool:
        return ctx.now.timestamp() - state.get("updated_at", 0) > self.idle_timeout.total_seconds()

    def _sealed(self, outcome: Outcome, ctx: Context) -> Outcome:
        """The state as saved: sensitive answers and the facts encrypted with the field key."""
        if outcome.state is None or not self._holds_secrets(outcome.state):
            return outcome
        cipher = ctx.services.security
        return replace(
            outcome,
            state=_crypt(outcome.state, self._sensitive, lambda v: {SEALED: cipher.encrypt(json.dumps(v))}),
        )

    def _opened(self, state: State | None, ctx: Context) -> State | None:
        if state is None or not self._holds_secrets(state):
            return state
        cipher = ctx.services.security
        return _crypt(state, self._sensitive, lambda v: json.loads(cipher.decrypt(v[SEALED])) if _is_sealed(v) else v)

    def _holds_secrets(self, state: State) -> bool:
        """Whether there is anything to seal or open: facts, or an answer of a sensitive step (or
        of a group, whose items may hold some). Most turns have none: they skip the copying."""
        if state.get("facts") or state.get("item"):
            return True
        answers: dict[str, Any] = state.get("answers") or {}
        return not self._sealable.isdisjoint(answers)

    @staticmethod
    def _moved(state: State, step: str) -> State:
        """At `step` now; the step left is remembered for 返回."""
        history = list(state.get("history", []))
        if state.get("step") and state["step"] not in (REVIEW, step):
            history.append(state["step"])
        return {**state, "step": step, "history": history}

    @staticmethod
    def _touch(state: State, ctx: Context) -> State:
        return {**state, "updated_at": round(ctx.now.timestamp(), 3)}


_EMPTY_BY_DEFAULT = ("facts", "history", "editing", "shown", "item", "pending")


def _lean(outcome: Outcome) -> Outcome:
    """The state without the keys that hold their empty default (read with .get): every turn
    saves and loads it, so less of it is less work for every message."""
    state = outcome.state
    if state is None or all(state.get(k) for k in _EMPTY_BY_DEFAULT if k in state):
        return outcome
    return replace(outcome, state={k: v for k, v in state.items() if v or k not in _EMPTY_BY_DEFAULT})


def _is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and SEALED in value


def _crypt(state: State, sensitive: frozenset[str], crypt: Callable[[Any], Any]) -> State:
    """`state` with `crypt` applied to the sensitive answers (in groups' items too) and the facts."""

    def answers(values: dict[str, Any]) -> dict[str, Any]:
        return {
            name: crypt(value) if name in sensitive else items(value) if isinstance(value, list) else value
            for name, value in values.items()
        }

    def items(values: list[Any]) -> list[Any]:
        return [answers(v) if isinstance(v, dict) else v for v in values]

    if "answers" not in state:
        return state
    out = {**state, "answers": answers(state["answers"])}
    if state.get("item"):
        out["item"] = {**state["item"], "answers": answers(state["item"]["answers"])}
    if state.get("facts"):
        out["facts"] = crypt(state["facts"])
    return out


async def _unmet(flow: Flow, ctx: Context) -> Missing | None:
    for requirement in flow.requires:
        missing = await requirement(ctx)
        if missing is not None:
            return missing
    return None


def _asks_for_something(inp: Input) -> bool:
    """Whether `inp` starts something on its own (a flow keyword, a menu click, a command), rather
    than answering a question."""
    if isinstance(inp, Click):
        return True
    if isinstance(inp, str):
        text = normalise(inp)
        return MenuKey.from_keyword(text) is not None or Command.parse(text) is not None
    return False


def _takes(flow: Flow, state: State) -> bool:
    """Whether the question waiting for an answer takes a location."""
    step = state.get("step")
    if not step or step == REVIEW or _is_more(flow, step):
        return False
    return flow.step(step).on_location is not None


def _is_more(flow: Flow, step: str) -> bool:
    group = flow.group_of(step)
    return group is not None and step == group.more


def _review_lines(flow: Flow, state: State) -> list[tuple[Step | Group, int]]:
    """What the review numbers, in order: each answered step, and each item of a group."""
    filled = Filled(state["answers"], state.get("facts", {}))
    lines: list[tuple[Step | Group, int]] = []
    for part in flow.steps:
        if not part.applies(filled) or part.name not in state["answers"]:
            continue
        if isinstance(part, Group):
            lines.extend((part, i) for i in range(len(state["answers"][part.name])))
        else:
            lines.append((part, 0))
    return lines


def _saved(choice: Choice) -> list[Any]:
    return [choice.label, choice.kept, list(choice.aliases)]


def _shown(state: State, step: Step) -> tuple[Choice, ...]:
    """The choices the resident was shown for `step`: computed when asked, or declared."""
    if step.choices_from is None:
        return step.choices
    return tuple(
        Choice(label, tuple(aliases), kept) for label, kept, aliases in state.get("shown", {}).get(step.name, [])
    )


def _parse(step: Step, inp: Input, asked: Asked, choices: Sequence[Choice]) -> Any:
    if isinstance(inp, Location):
        if step.on_location is None:
            raise Invalid(texts.WANT_TEXT)
        return step.on_location(inp)
    if isinstance(inp, Image):
        if step.on_image is None:
            raise Invalid(texts.WANT_TEXT)
        return step.on_image(inp)
    if isinstance(inp, Click):  # never reaches a step: a click asks for a flow
        raise Invalid(texts.WANT_TEXT)
    text = normalise(inp)
    if choices and step.parse_in is None:
        return choose(choices, text)
    if step.parse_in is not None:
        return step.parse_in(text, asked)
    if step.parse is None:
        raise Invalid(texts.WANT_IMAGE if step.on_image else texts.WANT_LOCATION)
    return step.parse(text)


def _void_dependents(flow: Flow, answers: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """Store an answer; if it changed, drop the answers that were given on the strength of it."""
    changed = name in answers and answers[name] != value
    voided = {s.name for s in flow.all_steps if changed and name in s.depends_on}
    return {**{k: v for k, v in answers.items() if k not in voided}, name: value}


def _prune(steps: tuple[Step, ...], answers: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """Drop answers of steps whose condition no longer holds (until nothing changes)."""
    while True:
        filled = Filled(answers, facts)
        stale = [s.name for s in steps if s.name in answers and not s.applies(filled)]
        if not stale:
            return answers
        answers = {k: v for k, v in answers.items() if k not in stale}


def _text(reply: Reply) -> str:
    return reply if isinstance(reply, str) else ""


def _prefixed(prefix: str, reply: Reply) -> Reply:
    """`prefix` before a text reply; a news card goes as it is."""
    return prefix + reply if isinstance(reply, str) else reply
