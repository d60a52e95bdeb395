"""One name per thing (conversations/glossary.py): the questions that ask for official terms say
them in plain words, and nothing the flows say uses another name or cites an article. Every reply
read in a chat-script test is checked the same way by the harness (tests/harness.py)."""

from __future__ import annotations

import pytest

from conversations.glossary import TERMS, misnamed
from conversations.registry import FLOWS
from tests.screen import fits_one_screen

EXPLAINED = {t.term: t.plain for t in TERMS if t.explain}
STEPS = [(flow, step) for flow in FLOWS for step in flow.all_steps]


@pytest.mark.parametrize(
    ("flow", "step"), [(f, s) for f, s in STEPS if s.label in EXPLAINED], ids=lambda x: getattr(x, "name", "")
)
def test_a_question_asking_for_an_official_term_says_it_in_plain_words(flow, step):
    assert EXPLAINED[step.label] in step.question


def test_every_question_keeps_to_the_glossary_and_fits_one_screen():
    for flow, step in STEPS:
        for text in (step.question, step.short or "", flow.intro):
            assert misnamed(text) == [], f"{step.name}: {text}"
            assert fits_one_screen(text), f"{step.name}: {text}"


@pytest.mark.parametrize(
    ("reply", "found"),
    [
        ("请在2027-01-01前办理签注。", []),
        ("您的居住证已中止。", ["中止 → 暂停使用"]),
        ("按第十九条第一项，您符合条件。", ["第十九条 → 不引用条文"]),
        ("请输入身份证号：", ["身份证号 → 身份证号码"]),
        ("请输入身份证号码：", []),
        ("请到办事大厅办理。", ["办事大厅 → 受理点"]),
    ],
)
def test_misnamed_finds_variants_and_citations(reply, found):
    assert misnamed(reply) == found


def test_no_variant_is_itself_a_term():
    terms = {t.term for t in TERMS}
    assert not terms & {v for t in TERMS for v in t.variants}
