"""The mistakes residents make, one flow at a time, as chat scripts through the whole HTTP path:
everyday words, a question instead of an answer, another service in the middle, a full address
where a district is asked, and the ends that must say what to do (issue 11). Each reply is also
checked by the harness: one phone screen, the glossary's words."""

from __future__ import annotations

from datetime import timedelta

from models.permit_cycle import add_years
from tests.applicants import eligible, id_number, today, unit_account
from tests.people import verified_account
from tests.test_endorse_flow import issued_for_window_open, permit

ZHANG = id_number(31)
LI = id_number(32)


# -- 居住登记 -------------------------------------------------------------------------------
async def test_residence_a_question_at_the_house_code_says_where_to_find_it(resident):
    await verified_account(resident.openid, ZHANG)
    await resident.send_text("我搬家了")  # everyday words start 居住登记
    await resident.send_text("入住")
    await resident.send_text("深圳市南山区粤海街道科苑路15号")  # a full address where the district is asked
    await resident.send_text("科苑路15号1栋1201")
    reply = await resident.send_text("房屋编码是什么")
    assert "门牌上二维码旁的编号" in reply and "不知道请回复「无」" in reply


async def test_residence_everyday_answers_are_taken_for_their_choices(resident):
    await verified_account(resident.openid, ZHANG)
    await resident.send_text("居住登记")
    for answer in ("搬进来", "福田", "福华路3号2栋501", "没有", "租的房子", "今天", "不上班", "打工"):
        await resident.send_text(answer)
    review = await resident.send_text("13900139000")
    assert "1. 登记类型：入住登记" in review and "5. 住房类型：租赁住房" in review
    assert "7. 服务处所：未填写" in review and "8. 来深事由：务工就业" in review


async def test_residence_a_question_about_materials_in_the_form_is_answered_and_the_form_kept(resident):
    await verified_account(resident.openid, ZHANG)
    await resident.send_text("居住登记")
    reply = await resident.send_text("要准备什么材料")
    assert "居住登记要准备" in reply and reply.endswith("（回复序号或文字）")
    assert "住址在哪个区" in await resident.send_text("入住")


async def test_residence_another_service_in_a_sentence_at_the_review_offers_to_go_on(resident):
    await verified_account(resident.openid, ZHANG)
    await resident.send_text("居住登记")
    for answer in ("入住", "福田", "福华路3号2栋501", "无", "租赁住房", "今天", "无", "务工就业"):
        await resident.send_text(answer)
    await resident.send_text("13900139000")
    reply = await resident.send_text("我的申请到哪一步了")
    assert "您正在办理「居住登记」" in reply and "「离开」" in reply
    assert "请核对「居住登记」的信息" in await resident.send_text("继续")


async def test_residence_another_service_asked_in_the_middle_offers_to_go_on(resident):
    await verified_account(resident.openid, ZHANG)
    await resident.send_text("居住登记")
    await resident.send_text("入住")
    reply = await resident.send_text("受理点")
    assert "您正在办理「居住登记」" in reply and "「继续」" in reply
    assert "住址在哪个区" in await resident.send_text("继续")


# -- 办证资格 and 申领 -----------------------------------------------------------------------
async def test_eligibility_asked_in_everyday_words_is_answered(resident):
    await verified_account(resident.openid, ZHANG)
    await eligible(ZHANG, "张三")
    reply = await resident.send_text("我能不能办居住证")
    assert "结论：您符合申领居住证的条件" in reply


async def test_apply_without_a_photo_number_is_told_where_to_get_one(resident):
    await verified_account(resident.openid, ZHANG)
    await eligible(ZHANG, "张三")
    await resident.send_text("申领")
    reply = await resident.send_text("我没有图像号")
    assert "照相馆" in reply and "数码照片" in reply


async def test_apply_takes_a_photo_number_copied_with_spaces_and_dashes(resident):
    await verified_account(resident.openid, ZHANG)
    await eligible(ZHANG, "张三")
    await resident.send_text("申领")
    reply = await resident.send_text("4403 0012-3456 7890")
    assert "数码照片图像号" not in reply  # the next question


# -- 签注 ---------------------------------------------------------------------------------
async def test_endorse_is_found_by_the_words_residents_use(resident):
    await verified_account(resident.openid, ZHANG)
    await eligible(ZHANG, "张三")
    await permit(ZHANG, issued_for_window_open())
    reply = await resident.send_text("我的居住证怎么续签")
    assert "440300202400001" in reply


async def test_endorse_a_lapsed_permit_in_everyday_words_leads_to_the_late_endorsement(resident):
    await verified_account(resident.openid, ZHANG)
    await eligible(ZHANG, "张三")
    await permit(ZHANG, add_years(today(), -1) - timedelta(days=40))
    reply = await resident.send_text("居住证过期了怎么办")
    assert "补办" in reply and "暂停使用" in reply


async def test_endorse_without_a_permit_says_how_to_get_one(resident):
    await verified_account(resident.openid, ZHANG)
    reply = await resident.send_text("签注")
    assert "申领" in reply


# -- 代办 ---------------------------------------------------------------------------------
async def test_unit_apply_takes_an_id_number_with_a_small_x(resident):
    await unit_account(resident.openid)
    number = next(id_number(n) for n in range(40, 99) if id_number(n).endswith("X"))
    await eligible(number, "王五")
    await resident.send_text("代办")
    await resident.send_text("王五")
    reply = await resident.send_text(number.lower())
    assert "校验" not in reply and "王五" in reply


# -- 回执, 进度, 受理点, 提醒 ----------------------------------------------------------------
async def test_receipts_asked_for_inside_a_sentence(resident):
    await verified_account(resident.openid, ZHANG)
    assert "还没有受理回执" in await resident.send_text("我的回执在哪里看")


async def test_progress_asked_in_everyday_words(resident):
    await verified_account(resident.openid, ZHANG)
    reply = await resident.send_text("我的申请到哪一步了")
    assert reply == (await resident.send_text("进度"))


async def test_acceptance_points_asked_with_a_full_address(resident):
    await resident.send_text("附近有没有办居住证的地方")
    reply = await resident.send_text("我住在深圳市宝安区新安街道")
    assert "按「宝安区」查询" in reply and "地图" in reply


async def test_reminders_turned_off_in_everyday_words(resident):
    await verified_account(resident.openid, ZHANG)
    reply = await resident.send_text("不要再提醒我了")
    assert reply.startswith("已关闭签注提醒")


# -- 注册 and 登录 -------------------------------------------------------------------------
async def test_login_with_the_common_typo(resident):
    assert "请选择要登录的账号类型" in await resident.send_text("登陆")


async def test_a_stranger_asking_for_a_verified_service_is_told_the_way_in(resident):
    reply = await resident.send_text("我要签注")
    assert "「登录」" in reply and "「注册」" in reply


async def test_thanks_at_the_end_get_a_friendly_word_not_a_refusal(resident):
    reply = await resident.send_text("好的谢谢")
    assert "不客气" in reply and "没有理解" not in reply


async def test_thanks_in_the_middle_of_a_form_are_answered_and_the_question_put_again(resident):
    await resident.send_text("受理点")
    reply = await resident.send_text("谢谢")
    assert reply.startswith("不客气") and "请发送您的位置" in reply and "没有找到" not in reply


async def test_residence_moving_house_in_everyday_words_is_a_move_in(resident):
    await verified_account(resident.openid, ZHANG)
    await resident.send_text("居住登记")
    assert "住址在哪个区" in await resident.send_text("搬家了")


async def test_apply_takes_another_contact_number_typed_straight_away(resident):
    await verified_account(resident.openid, ZHANG)
    await eligible(ZHANG, "张三")
    await resident.send_text("申领")
    await resident.send_text("012345678901")
    reply = await resident.send_text("139 0013 9000")
    assert "登记编号" in reply and "联系电话" not in reply  # on to the registration, no second phone question
    await resident.send_text("确认")
    await resident.send_text("福田区")
    review = await resident.send_text("1")
    assert "联系电话：其他号码139****9000" in review


async def test_eligibility_asked_as_can_i_is_answered_with_the_verdict(resident):
    await verified_account(resident.openid, ZHANG)
    await eligible(ZHANG, "张三")
    assert "结论：您符合申领居住证的条件" in await resident.send_text("我能办居住证吗")
