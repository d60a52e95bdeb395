"""The flow engine: the only place that decides what comes next.

A saved conversation is plain JSON:
    {"v": 1, "flow": "ENDORSE", "fv": "<flow version>", "step": "endorse.phone" | "review",
     "answers": {...}, "editing": false, "updated_at": <epoch s>}
or, after a submit, {"v": 1, "flow": ..., "done": "<reference>", "updated_at": ...} so that a
repeated 确认 is answered with the reference instead of submitting twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.services.errors import Told
from bot.text import normalise
from conversations import texts
from conversations.flow import Asked, Context, Finished, Flow, Image, Input, Location, Step
from conversations.keys import Command, MenuKey
from conversations.parsers import Invalid

STATE_VERSION = 1
REVIEW = "review"
_EDIT = re.compile(r"^修改\s*(\d+)$")

State = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    reply: str
    state: State | None
    started: MenuKey | None = None
    completed: MenuKey | None = None


class Engine:
    def __init__(self, flows: Sequence[Flow], idle_timeout: timedelta) -> None:
        self.flows = {flow.key: flow for flow in flows}
        self._by_name = {key.name: flow for key, flow in self.flows.items()}  # as saved in a state's "flow"
        self.menu_order = list(self.flows)
        self.idle_timeout = idle_timeout

    # -- the menu --------------------------------------------------------------------------
    def menu(self) -> str:
        """Built from the flows that exist, so it never offers what is not there."""
        lines = [f"{i}. {key.keyword} — {key.summary}" for i, key in enumerate(self.menu_order, 1)]
        return texts.MENU.format(items="\n".join(lines))

    def _menu_choice(self, text: str) -> MenuKey | None:
        key = MenuKey.from_keyword(text)
        if key in self.flows:
            return key
        if text.isdigit() and 1 <= int(text) <= len(self.menu_order):
            return self.menu_order[int(text) - 1]
        return None

    def wants_location(self, state: State | None, ctx: Context) -> bool:
        """True when the conversation waits at a step that takes a location."""
        if state is None or "step" not in state or self._expired(state, ctx):
            return False
        flow = self._flow_of(state)
        if flow is None or state.get("fv") != flow.version or state["step"] == REVIEW:
            return False
        return flow.step(state["step"]).on_location is not None

    # -- entry points ------------------------------------------------------------------------
    async def start(self, key: MenuKey, ctx: Context, *, notice: str = "", first: Input | None = None) -> Outcome:
        flow = self.flows.get(key)
        if flow is None:
            return Outcome(notice + texts.NOT_AVAILABLE.format(keyword=key.keyword) + "\n\n" + self.menu(), None)
        for requirement in flow.requires:
            missing = await requirement(ctx)
            if missing:
                return Outcome(notice + missing, None)
        state: State = {
            "v": STATE_VERSION,
            "flow": key.name,
            "fv": flow.version,
            "answers": {},
            "editing": False,
        }
        first_step = _next_step(flow, {}, after=None)
        if first_step is None:  # a flow of no questions submits at once
            outcome = await self._submit(flow, state, ctx)
            return Outcome(notice + outcome.reply, outcome.state, started=key, completed=key)
        state["step"] = first_step.name
        if first is not None:
            outcome = await self._answer(flow, state, first, ctx)
            return Outcome(notice + outcome.reply, outcome.state, started=key, completed=outcome.completed)
        intro = f"{flow.intro}\n\n" if flow.intro else ""
        return Outcome(notice + intro + first_step.prompt, self._touch(state, ctx), started=key)

    async def handle(self, state: State | None, inp: Input, ctx: Context) -> Outcome:
        notice = ""
        if state is not None and self._expired(state, ctx):
            # Only a flow in progress lost anything; an old "submitted" marker just goes.
            state, notice = None, (texts.TIMED_OUT + "\n\n" if "step" in state else "")
        active = state is not None and "step" in state
        text = normalise(inp) if isinstance(inp, str) else None

        if text is not None:
            command = Command.parse(text)
            if command is Command.MENU:
                resume = texts.RESUME.format(title=self._title(state)) if active else ""
                return Outcome(notice + self.menu() + resume, state)
            if command is Command.CANCEL:
                reply = texts.CANCELLED if active else texts.NOTHING_TO_CANCEL
                return Outcome(notice + reply + "\n\n" + self.menu(), None)
            # A bare number picks from the menu only outside a flow, and not as the answer to a
            # timeout notice (it was meant for the question that timed out).
            key = MenuKey.from_keyword(text) or (None if active or notice else self._menu_choice(text))
            if key is not None:
                return await self.start(key, ctx, notice=notice)

        if not active:
            return self._idle(state, inp, text, notice)
        assert state is not None
        flow = self._flow_of(state)
        if flow is None or state.get("fv") != flow.version or state.get("v") != STATE_VERSION:
            return await self._restart(flow, ctx)
        if text is not None and Command.parse(text) is Command.BACK:
            return self._back(flow, state, ctx)
        if state["step"] == REVIEW:
            return await self._review(flow, state, text, ctx)
        return await self._answer(flow, state, inp, ctx)

    # -- states ------------------------------------------------------------------------------
    def _idle(self, state: State | None, inp: Input, text: str | None, notice: str) -> Outcome:
        if state is not None and state.get("done") and text == "确认":
            return Outcome(notice + texts.ALREADY_SUBMITTED.format(reference=state["done"]), state)
        if isinstance(inp, Image):
            return Outcome(notice + texts.IMAGE_NOT_EXPECTED, state)
        return Outcome(notice + texts.NOT_UNDERSTOOD + "\n\n" + self.menu(), state)

    async def _restart(self, flow: Flow | None, ctx: Context) -> Outcome:
        if flow is None:
            return Outcome(texts.FLOW_GONE + "\n\n" + self.menu(), None)
        outcome = await self.start(flow.key, ctx, notice=texts.FLOW_CHANGED + "\n\n")
        return outcome

    async def _answer(self, flow: Flow, state: State, inp: Input, ctx: Context) -> Outcome:
        step = flow.step(state["step"])
        try:
            value = _parse(step, inp, Asked(ctx.today, state["answers"]))
            if step.check is not None:
                value = await step.check(value, ctx, state["answers"])
        except Told as exc:
            return Outcome(f"{exc.message}\n\n{step.prompt}", self._touch(state, ctx))
        answers = _prune(flow, _void_dependents(flow, state["answers"], step.name, value))
        editing = bool(state.get("editing"))
        # From 修改 N, only questions the change newly calls for come before the review again.
        following = _next_step(flow, answers, after=None if editing else step.name, unanswered_only=editing)
        return await self._go(
            flow, {**state, "answers": answers, "editing": editing and following is not None}, following, ctx
        )

    async def _go(self, flow: Flow, state: State, step: Step | None, ctx: Context) -> Outcome:
        if step is not None:
            kept = state["answers"].get(step.name)
            hint = texts.KEPT_ANSWER.format(value=step.show(kept)) if step.name in state["answers"] else ""
            return Outcome(step.prompt + hint, self._touch({**state, "step": step.name}, ctx))
        if flow.review:
            return Outcome(self._review_text(flow, state["answers"]), self._touch({**state, "step": REVIEW}, ctx))
        return await self._submit(flow, state, ctx)

    async def _review(self, flow: Flow, state: State, text: str | None, ctx: Context) -> Outcome:
        if text == "确认":
            unanswered = _next_step(flow, state["answers"], after=None, unanswered_only=True)
            if unanswered is not None:  # left by 返回 from a question a change called for
                return await self._go(flow, {**state, "editing": True}, unanswered, ctx)
            return await self._submit(flow, state, ctx)
        visible = _answered_steps(flow, state["answers"])
        match = _EDIT.match(text or "")
        if match:
            n = int(match.group(1))
            if 1 <= n <= len(visible):
                step = visible[n - 1]
                edited = {**state, "step": step.name, "editing": True}
                hint = texts.KEPT_ANSWER.format(value=step.show(state["answers"][step.name]))
                return Outcome(step.prompt + hint, self._touch(edited, ctx))
            return Outcome(
                texts.NO_SUCH_ITEM.format(n=n, count=len(visible)) + "\n\n" + self._review_text(flow, state["answers"]),
                self._touch(state, ctx),
            )
        return Outcome(
            texts.REVIEW_EXPECTED + "\n\n" + self._review_text(flow, state["answers"]),
            self._touch(state, ctx),
        )

    def _back(self, flow: Flow, state: State, ctx: Context) -> Outcome:
        if state.get("editing"):  # from 修改 N: back to the review, nothing changed
            return Outcome(
                self._review_text(flow, state["answers"]),
                self._touch({**state, "step": REVIEW, "editing": False}, ctx),
            )
        current = None if state["step"] == REVIEW else state["step"]
        previous = _previous_step(flow, state["answers"], before=current)
        if previous is None:
            step = flow.step(state["step"])
            return Outcome(texts.AT_FIRST + "\n\n" + step.prompt, self._touch(state, ctx))
        hint = texts.KEPT_ANSWER.format(value=previous.show(state["answers"][previous.name]))
        return Outcome(previous.prompt + hint, self._touch({**state, "step": previous.name}, ctx))

    async def _submit(self, flow: Flow, state: State, ctx: Context) -> Outcome:
        try:
            finished: Finished = await flow.submit(ctx, state["answers"])
        except Told as exc:  # found wrong only on submit (a conflict, a service down): nothing lost
            if flow.review:
                return Outcome(
                    exc.message + "\n\n" + self._review_text(flow, state["answers"]), self._touch(state, ctx)
                )
            last = _previous_step(flow, state["answers"], before=None)
            if last is None:
                return Outcome(exc.message, None)
            return Outcome(exc.message + "\n\n" + last.prompt, self._touch({**state, "step": last.name}, ctx))
        if finished.reference is None:
            return Outcome(finished.reply, None, completed=flow.key)
        done = {"v": STATE_VERSION, "flow": flow.key.name, "done": finished.reference}
        return Outcome(finished.reply, self._touch(done, ctx), completed=flow.key)

    # -- helpers -----------------------------------------------------------------------------
    def _review_text(self, flow: Flow, answers: dict[str, Any]) -> str:
        lines = [f"{i}. {s.label}：{s.show(answers[s.name])}" for i, s in enumerate(_answered_steps(flow, answers), 1)]
        return texts.REVIEW.format(title=flow.title, lines="\n".join(lines))

    def _flow_of(self, state: State | None) -> Flow | None:
        return self._by_name.get(state.get("flow")) if state else None

    def _title(self, state: State | None) -> str:
        flow = self._flow_of(state)
        return flow.title if flow else ""

    def _expired(self, state: State, ctx: Context) -> bool:
        return ctx.now.timestamp() - state.get("updated_at", 0) > self.idle_timeout.total_seconds()

    @staticmethod
    def _touch(state: State, ctx: Context) -> State:
        return {**state, "updated_at": round(ctx.now.timestamp(), 3)}


def _parse(step: Step, inp: Input, asked: Asked) -> Any:
    if isinstance(inp, Location):
        if step.on_location is None:
            raise Invalid(texts.WANT_TEXT)
        return step.on_location(inp)
    if isinstance(inp, Image):
        if step.on_image is None:
            raise Invalid(texts.WANT_TEXT)
        return step.on_image(inp)
    text = normalise(inp)
    if step.choices:
        return _choose(step, text)
    if step.parse_in is not None:
        return step.parse_in(text, asked)
    if step.parse is None:
        raise Invalid(texts.WANT_IMAGE if step.on_image else texts.WANT_LOCATION)
    return step.parse(text)


def _choose(step: Step, text: str) -> str:
    for number, choice in enumerate(step.choices, 1):
        if text in (str(number), choice.label, *choice.aliases):
            return choice.label
    options = "、".join(f"{i}（{c.label}）" for i, c in enumerate(step.choices, 1))
    raise Invalid(texts.NOT_A_CHOICE.format(options=options))


def _void_dependents(flow: Flow, answers: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """Store an answer; if it changed, drop the answers that were given on the strength of it."""
    changed = name in answers and answers[name] != value
    voided = {s.name for s in flow.steps if changed and name in s.depends_on}
    return {**{k: v for k, v in answers.items() if k not in voided}, name: value}


def _prune(flow: Flow, answers: dict[str, Any]) -> dict[str, Any]:
    """Drop answers of steps whose condition no longer holds (until nothing changes)."""
    while True:
        stale = [s.name for s in flow.steps if s.name in answers and not s.applies(answers)]
        if not stale:
            return answers
        answers = {k: v for k, v in answers.items() if k not in stale}


def _next_step(flow: Flow, answers: dict[str, Any], *, after: str | None, unanswered_only: bool = False) -> Step | None:
    names = [s.name for s in flow.steps]
    start = 0 if after is None else names.index(after) + 1
    for step in flow.steps[start:]:
        if step.applies(answers) and not (unanswered_only and step.name in answers):
            return step
    return None


def _previous_step(flow: Flow, answers: dict[str, Any], *, before: str | None) -> Step | None:
    names = [s.name for s in flow.steps]
    end = len(names) if before is None else names.index(before)
    for step in reversed(flow.steps[:end]):
        if step.applies(answers) and step.name in answers:
            return step
    return None


def _answered_steps(flow: Flow, answers: dict[str, Any]) -> list[Step]:
    return [s for s in flow.steps if s.name in answers and s.applies(answers)]
