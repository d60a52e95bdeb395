"""帮助 and the common questions (conversations/help.py): what to bring, the photo, fees, time
limits, the hotline and how to reach a person, answered in a few lines; through the full HTTP path."""

from __future__ import annotations

import pytest

from conversations.help import TOPICS, Help
from conversations.keys import MenuKey
from tests.harness import make_settings
from tests.people import verified_account
from tests.screen import fits_one_screen


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, help={"hotline": "0755-88880000", "hours": "工作日9:00-18:00"})


async def test_help_shows_the_menu_and_the_common_questions(resident):
    reply = await resident.send_text("帮助")
    assert "请回复关键词或序号办理" in reply and "受理点" in reply
    assert "常见问题请回复：「材料」「照片」「费用」「时限」「热线」「人工」" in reply.replace("、", "")


async def test_help_inside_a_form_says_the_form_is_still_open(resident):
    await resident.send_text("受理点")
    reply = await resident.send_text("帮助")
    assert "「材料」" in reply and "您正在办理「查询受理点」" in reply


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("材料", "申领：身份证、数码照片图像号"),
        ("签注要带什么", "签注不用交材料"),
        ("申领居住证需要什么材料", "1. 本人身份证"),
        ("照片", "照相馆"),
        ("图像号是什么", "回执上印着图像号"),
        ("办居住证要多少钱", "首次申领居住证免费"),
        ("多久能拿到", "最多15个工作日"),
        ("签注要几天", "当场办好"),
        ("热线", "0755-88880000（工作日9:00-18:00）"),
        ("我要转人工", "拨打0755-88880000"),
    ],
)
async def test_a_common_question_gets_its_short_answer(resident, question, said):
    reply = await resident.send_text(question)
    assert said in reply and fits_one_screen(reply)


async def test_a_question_about_a_service_is_answered_not_started(resident):
    await verified_account(resident.openid, "440304199001011233")
    assert "签注不用交材料" in await resident.send_text("签注要带什么材料")
    assert "当前没有正在办理的事项" in await resident.send_text("取消")  # no 签注 form was opened


async def test_a_recognised_voice_question_is_answered_too(resident):
    assert "免费" in await resident.send_voice("签注收费吗")


def test_every_answer_fits_one_screen_whatever_the_service():
    desk = Help("0755-88880000", "工作日9:00-18:00")
    for topic in TOPICS:
        for key in (None, *MenuKey):
            answer = desk.answer(topic.keyword, (key,) if key else ())
            assert answer is not None and fits_one_screen(answer)
            assert "{" not in answer
