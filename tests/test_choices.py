"""The words each choice accepts, over every flow the bot runs: no word can mean two things."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.text import normalise
from conversations.flow import Step
from conversations.keys import Command, MenuKey
from conversations.registry import FLOWS

# Read before a step sees the text (engine.py, handlers): a choice with one of these never gets it.
TAKEN_ELSEWHERE = {word for command in Command for word in command.value} | {key.keyword for key in MenuKey}


def _steps_with_choices() -> Iterator[Step]:
    for flow in FLOWS:
        for part in flow.steps:
            # A group of steps holds its own; a plain step is its own only step.
            for step in getattr(part, "steps", (part,)):
                if step.choices:
                    yield step


STEPS = list(_steps_with_choices())


def test_some_choices_have_everyday_words():
    assert any(choice.aliases for step in STEPS for choice in step.choices)


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_no_word_of_a_choice_is_another_choices_word(step):
    owner: dict[str, str] = {}
    for number, choice in enumerate(step.choices, 1):
        for word in (str(number), choice.label, *choice.aliases):
            assert owner.setdefault(word, choice.label) == choice.label, (
                f"{step.name}: 「{word}」 is a word of both {owner[word]} and {choice.label}"
            )


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_no_alias_is_a_number_a_command_or_a_flow_keyword(step):
    for choice in step.choices:
        for alias in choice.aliases:
            assert not alias.isdigit(), f"{step.name}: 「{alias}」 would read as a choice's number"
            assert alias not in TAKEN_ELSEWHERE, f"{step.name}: 「{alias}」 is a command or a flow's keyword"
            # The engine compares the normalised text; an alias that normalising changes never matches.
            assert alias and normalise(alias) == alias, f"{step.name}: 「{alias}」 can never match as written"
