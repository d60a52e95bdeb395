"""What a flow is: named steps (and groups of steps) declared as data. The engine (engine.py) runs them.

A step may do four things besides parsing the answer, each at its own moment:
  on_ask        when the step is asked (send the SMS code the next question asks for)
  choices_from  when the step is asked: the choices, computed from the database; kept in the
                conversation, so the answer is read against exactly what the resident saw
  check         after parsing (I/O: is the username free, is the code right); may replace the
                value and record facts for later steps (`Checked`)
  when          whether the step is asked at all, read from the answers and the facts so far

A step whose choices are computed may read them with a parser of its own (`parse_in`, given the
choices shown), to take several at once (「1 3」, 「全部」), and word its question around them
(`question_with`), also for when there is none to choose.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from bot.services.errors import Told
from bot.wechat.reply import Reply
from conversations import texts
from conversations.keys import MenuKey
from conversations.parsers import Invalid
from models.rules import SHENZHEN

if TYPE_CHECKING:
    from bot.services import Services

Answers = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    aliases: tuple[str, ...] = ()  # everyday words for the same choice ("租房" for 租赁住房)
    value: Any = None  # JSON-safe; what is kept as the answer (the label when None)

    @property
    def kept(self) -> Any:
        return self.label if self.value is None else self.value


# -- inputs: every kind of message reaches the engine as one of these ---------------------------
@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lng: float
    label: str = ""
    reported: bool = False  # sent by WeChat on its own (LOCATION event), not by the resident


@dataclass(frozen=True, slots=True)
class Image:
    media_id: str


@dataclass(frozen=True, slots=True)
class Click:
    """A custom-menu button (or a QR scene) naming a flow."""

    key: MenuKey


Input = str | Location | Image | Click


class Audience(Enum):
    """Who is asking: the menu offers each only what fits them."""

    STRANGER = "stranger"  # no account bound to this WeChat user
    PERSONAL = "personal"  # a personal account not yet real-name verified
    VERIFIED = "verified"  # a personal account whose real-name verification passed
    UNIT = "unit"


EVERYONE = frozenset(Audience)


@dataclass(frozen=True, slots=True)
class Context:
    """What a step or a submit may know about the turn, besides the answers."""

    openid: str
    now: datetime  # timezone-aware
    services: Services
    submission_id: str = ""  # set for a submit: the id the database keeps once (see Engine._submit)

    @property
    def today(self) -> date:
        """The resident's date: Shenzhen's, whatever the server's zone."""
        return self.now.astimezone(SHENZHEN).date()


@dataclass(frozen=True, slots=True)
class Filled(Mapping[str, Any]):
    """The form so far, as `when`, `on_ask` and `choices_from` read it: the answers (as a mapping)
    and the facts checks recorded about them (an account found, whether it is trusted)."""

    answers: Answers
    facts: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.answers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.answers)

    def __len__(self) -> int:
        return len(self.answers)


@dataclass(frozen=True, slots=True)
class Asked:
    """What a pure parser may read besides the text: the date, and the answers so far."""

    today: date
    answers: Answers
    shown: tuple[Choice, ...] = ()  # the choices put with the question, for a parser that reads several


@dataclass(frozen=True, slots=True)
class Checked:
    """A check's result when it learnt facts later steps need: the answer to keep, and the facts."""

    value: Any
    facts: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Noted:
    """An answer with a word on how it was read (「已按「福田区」登记」), said before the next question."""

    value: Any
    note: str


class Again(Told):
    """Ask this step again, doing what asking it does (「重发」 sends a new code); the message says why."""


class Ended(Told):
    """End the form here, nothing submitted: an answer that makes the rest moot (a changed address
    sends the resident to 居住登记 before a 签注); the message says what to do instead."""


Check = Callable[[Any, Context, Filled], Awaitable[Any]]  # the value (or Checked) to keep; raises Told
OnAsk = Callable[[Context, Filled], Awaitable[None]]
ChoicesFrom = Callable[[Context, Filled], Awaitable[Sequence[Choice]]]


@dataclass(frozen=True, slots=True)
class Step:
    """One question. `parse` (or `parse_in`, or the choices) turns the text into a JSON-safe value,
    or raises Invalid with what to fix; `check` then does what needs the outside world."""

    name: str  # "flow.field", stable across deploys
    question: str
    label: str  # how the review names the answer
    parse: Callable[[str], Any] | None = None
    parse_in: Callable[[str, Asked], Any] | None = None  # for answers read against the date or earlier answers
    check: Check | None = None
    choices: tuple[Choice, ...] = ()
    choices_from: ChoicesFrom | None = None
    on_ask: OnAsk | None = None
    on_location: Callable[[Location], Any] | None = None
    on_image: Callable[[Image], Any] | None = None
    when: Callable[[Filled], bool] | None = None  # asked only while this holds
    depends_on: tuple[str, ...] = ()  # steps whose changed answer voids this one (a code sent to a phone)
    show: Callable[[Any], str] = str  # how the review displays the value
    short: str = ""  # the question again after a wrong answer, when the whole one is long
    sensitive: bool = False  # kept encrypted in the saved conversation (a phone number, an address)
    question_with: Callable[[Sequence[Choice]], str] | None = None  # the question worded around its choices

    def applies(self, filled: Filled) -> bool:
        return self.when is None or self.when(filled)

    def prompt(self, choices: Sequence[Choice] = ()) -> str:
        shown = choices or self.choices
        if self.question_with is not None:
            return self.question_with(shown)
        if not shown:
            return self.question
        options = "\n".join(f"{i}. {c.label}" for i, c in enumerate(shown, 1))
        return f"{self.question}\n{options}\n（回复序号或文字）"

    def again(self, shown: Sequence[Choice] = ()) -> str:
        """What a wrong answer is followed by: the short question, or the whole of one worded
        around its choices (they are what it asks about)."""
        if self.question_with is not None and not self.short:
            return self.question_with(shown)
        return self.short or self.question


@dataclass(frozen=True, slots=True)
class Group:
    """Questions asked once per item (a unit's people: name, ID number, …), repeated by
    「继续添加」 until 「完成」; the review lists the items, 「修改 N」 and 「删除 N」 work on one."""

    name: str  # the answer holding the list of items
    item: str  # what one item is called ("人")
    steps: tuple[Step, ...]
    describe: Callable[[Answers], str]  # one item on one line, for the review and the summaries
    max_items: Callable[[Context], int] = lambda ctx: 50
    # Whether 「完成」 needs an item: not when the form has others to submit (people chosen from a list).
    needs_items: Callable[[Filled], bool] = lambda filled: True
    # Checks a whole item once its questions are answered: the item to keep, or Told (refused,
    # the batch goes on).
    check_item: Callable[[Context, Answers, Sequence[Answers]], Awaitable[Answers]] | None = None
    when: Callable[[Filled], bool] | None = None

    def applies(self, filled: Filled) -> bool:
        return self.when is None or self.when(filled)

    @property
    def more(self) -> str:
        """The name of the 「继续添加 / 完成」 question after each item."""
        return f"{self.name}.more"


Part = Step | Group


def under(condition: Callable[[Filled], bool], *steps: Step) -> tuple[Step, ...]:
    """Steps asked only while `condition` holds (a branch of the form), each keeping its own condition."""

    def both(own: Callable[[Filled], bool] | None) -> Callable[[Filled], bool]:
        return condition if own is None else (lambda filled: condition(filled) and own(filled))

    return tuple(replace(step, when=both(step.when)) for step in steps)


@dataclass(frozen=True, slots=True)
class Finished:
    reply: Reply  # text, or a news card
    reference: str | None = None  # e.g. "受理编号：X"; kept so that a repeated 确认 is answered with it


@dataclass(frozen=True, slots=True)
class Missing:
    """A requirement not met: what to do, and the flow that does it (the engine carries on with
    the asked-for flow once that one is done)."""

    message: str
    via: MenuKey | None = None


Submit = Callable[[Context, Filled], Awaitable[Finished]]
Requirement = Callable[[Context], Awaitable[Missing | None]]  # None when met


@dataclass(frozen=True)
class Flow:
    key: MenuKey
    title: str
    steps: tuple[Part, ...]
    submit: Submit
    review: bool = True  # show the numbered answers and wait for 确认
    requires: tuple[Requirement, ...] = ()  # checked at the start and again at 确认
    intro: str = ""
    offered_to: frozenset[Audience] = EVERYONE  # whom the menu offers it to
    takes: tuple[type, ...] = ()  # inputs other than text that start it (a Location for 受理点)
    review_note: Callable[[Filled], str] | None = None  # a line the review adds below the answers
    version: str = field(init=False)

    def __post_init__(self) -> None:
        names = [s.name for s in self.all_steps] + [g.more for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.key.name}: step names repeat")
        # Saved conversations carry this; a deploy that changes the questions restarts them.
        shape = "|".join(f"{s.name}:{','.join(c.label for c in s.choices)}" for s in self.all_steps)
        object.__setattr__(self, "version", hashlib.sha1(shape.encode()).hexdigest()[:10])

    @property
    def all_steps(self) -> Iterator[Step]:
        for part in self.steps:
            if isinstance(part, Group):
                yield from part.steps
            else:
                yield part

    @property
    def groups(self) -> Iterator[Group]:
        return (part for part in self.steps if isinstance(part, Group))

    def step(self, name: str) -> Step:
        for s in self.all_steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def group_of(self, name: str) -> Group | None:
        """The group a step (or a group's more-question) belongs to."""
        for g in self.groups:
            if name == g.more or any(s.name == name for s in g.steps):
                return g
        return None

    @property
    def keyword(self) -> str:
        return self.key.keyword


def choose(choices: Sequence[Choice], text: str) -> Any:
    """The choice `text` names, by its number, its label or an alias; Invalid listing them if none."""
    for number, choice in enumerate(choices, 1):
        if text in (str(number), choice.label, *choice.aliases):
            return choice.kept
    options = "、".join(f"{i}（{c.label}）" for i, c in enumerate(choices, 1))
    raise Invalid(texts.NOT_A_CHOICE.format(options=options))
