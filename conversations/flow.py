"""What a flow is: named steps declared as data. The engine (engine.py) runs them."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from conversations.keys import MenuKey

Answers = Mapping[str, Any]
SHENZHEN = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lng: float
    label: str = ""


@dataclass(frozen=True, slots=True)
class Image:
    media_id: str


Input = str | Location | Image


@dataclass(frozen=True, slots=True)
class Context:
    """What a step or a submit may know about the turn, besides the answers."""

    openid: str
    now: datetime  # timezone-aware
    services: Any = None  # the app's resources (database access, API client), for submits

    @property
    def today(self) -> date:
        """The resident's date: Shenzhen's, whatever the server's zone."""
        return self.now.astimezone(SHENZHEN).date()


@dataclass(frozen=True, slots=True)
class Asked:
    """What a pure parser may read besides the text: the date, and the answers so far."""

    today: date
    answers: Answers


Check = Callable[[Any, Context, Answers], Awaitable[Any]]  # returns the value to keep, or raises Invalid


@dataclass(frozen=True, slots=True)
class Step:
    """One question. `parse` (or `parse_in`, or `choices`) turns the text into a JSON-safe value,
    or raises Invalid with what to fix; `check` then does what needs the outside world."""

    name: str  # "flow.field", stable across deploys
    question: str
    label: str  # how the review names the answer
    parse: Callable[[str], Any] | None = None
    parse_in: Callable[[str, Asked], Any] | None = None  # for answers read against the date or earlier answers
    check: Check | None = None  # I/O after parsing (unique names, SMS codes); may replace the value
    choices: tuple[Choice, ...] = ()
    on_location: Callable[[Location], Any] | None = None
    on_image: Callable[[Image], Any] | None = None
    when: Callable[[Answers], bool] | None = None  # asked only while this holds
    depends_on: tuple[str, ...] = ()  # steps whose changed answer voids this one (a code sent to a phone)
    show: Callable[[Any], str] = str  # how the review displays the value

    def applies(self, answers: Answers) -> bool:
        return self.when is None or self.when(answers)

    @property
    def prompt(self) -> str:
        if not self.choices:
            return self.question
        options = "\n".join(f"{i}. {c.label}" for i, c in enumerate(self.choices, 1))
        return f"{self.question}\n{options}\n（回复序号或文字）"


@dataclass(frozen=True, slots=True)
class Finished:
    reply: str
    reference: str | None = None  # e.g. "受理编号：X"; kept so that a repeated 确认 is answered with it


Submit = Callable[[Context, Answers], Awaitable[Finished]]
Requirement = Callable[[Context], Awaitable[str | None]]  # None when met, else what to do first


@dataclass(frozen=True)
class Flow:
    key: MenuKey
    title: str
    steps: tuple[Step, ...]
    submit: Submit
    review: bool = True  # show the numbered answers and wait for 确认
    requires: tuple[Requirement, ...] = ()
    intro: str = ""
    version: str = field(init=False)

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.key.name}: step names repeat")
        # Saved conversations carry this; a deploy that changes the questions restarts them.
        shape = "|".join(f"{s.name}:{','.join(c.label for c in s.choices)}" for s in self.steps)
        object.__setattr__(self, "version", hashlib.sha1(shape.encode()).hexdigest()[:10])

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def keyword(self) -> str:
        return self.key.keyword
