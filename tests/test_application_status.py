"""The application lifecycle as operators move it (RULES.md "Rules as a state machine"): each change
recorded once, and pushed once to whom it concerns, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from bot.services.application_status import IllegalTransition, NoteRequired, UnknownApplication, parse_status
from models import Account, ApplicationStatus, ApplicationStatusChange, PermitApplication, Push, Receipt
from models.application import STATUS_LABELS, application_number
from tests.lifecycle import NOW, TO_COLLECTION, advance, application_for, lifecycle, receipts, unit_account
from tests.people import person, verified_account

ID = "440304199001011233"
OTHER_ID = "440305199001011007"
S = ApplicationStatus

pytestmark = pytest.mark.usefixtures("db")


async def submitted(openid: str = "o_resident_1", id_number: str = ID) -> PermitApplication:
    return await application_for(await verified_account(openid, id_number), id_number)


async def changes_of(application: PermitApplication) -> list[ApplicationStatus]:
    return [c.status for c in await ApplicationStatusChange.filter(application_id=application.id).order_by("id")]


async def reloaded(application: PermitApplication) -> PermitApplication:
    return await PermitApplication.get(id=application.id)


async def test_every_legal_transition_in_order_is_recorded_and_pushed_once():
    application = await submitted()
    previous = S.SUBMITTED
    for status in TO_COLLECTION:
        changed = await lifecycle().set_status(application.number, status, "", NOW)
        assert (changed.previous, changed.status, changed.repeat) == (previous, status, False)
        previous = status
    row = await reloaded(application)
    assert row.status is S.COLLECTED and row.status_changed_at == NOW
    assert await changes_of(application) == [S.SUBMITTED, *TO_COLLECTION]
    keys = await Push.filter(account_id=application.account_id).order_by("id").values_list("key", flat=True)
    assert keys == [f"status:{application.id}:{status}" for status in TO_COLLECTION]


async def test_an_application_stays_open_until_a_final_status():
    application = await submitted()
    for status in TO_COLLECTION[:-1]:
        await advance(application.number, status)
        assert (await reloaded(application)).open_for == application.person
    await advance(application.number, S.COLLECTED)
    assert (await reloaded(application)).open_for is None


async def test_a_rejection_records_its_reason_and_frees_the_person_to_apply_again():
    application = await submitted()
    await advance(application.number, S.VERIFYING, S.REVIEW)
    changed = await lifecycle().set_status(application.number, S.REJECTED, "  社保缴纳记录不足12个月 ", NOW)
    assert changed.note == "社保缴纳记录不足12个月"
    row = await reloaded(application)
    assert row.status is S.REJECTED and row.status_note == "社保缴纳记录不足12个月" and row.open_for is None
    push = await Push.get(key=f"status:{application.id}:rejected")
    assert push.data["thing4"] == "社保缴纳记录不足12个月"


async def test_a_rejection_without_a_reason_is_refused_and_nothing_changes():
    application = await submitted()
    await advance(application.number, S.VERIFYING, S.REVIEW)
    with pytest.raises(NoteRequired, match="reason"):
        await lifecycle().set_status(application.number, S.REJECTED, "   ", NOW)
    assert (await reloaded(application)).status is S.REVIEW
    assert await Push.filter(key=f"status:{application.id}:rejected").count() == 0


@pytest.mark.parametrize(
    ("path", "wanted", "allowed"),
    [
        pytest.param((), S.APPROVED, [S.VERIFYING], id="a step skipped"),
        pytest.param((S.VERIFYING, S.REVIEW), S.PRODUCING, [S.APPROVED, S.REJECTED], id="review skipped"),
        pytest.param((S.VERIFYING,), S.SUBMITTED, [S.REVIEW], id="backwards"),
        pytest.param(TO_COLLECTION, S.READY, [], id="after collection"),
    ],
)
async def test_an_illegal_transition_is_refused_with_the_allowed_ones(path, wanted, allowed):
    application = await submitted()
    await advance(application.number, *path)
    pushes = await Push.all().count()
    with pytest.raises(IllegalTransition) as refused:
        await lifecycle().set_status(application.number, wanted, "", NOW)
    assert refused.value.allowed == allowed
    assert refused.value.current is (path[-1] if path else S.SUBMITTED)
    assert await changes_of(application) == [S.SUBMITTED, *path]
    assert await Push.all().count() == pushes


async def test_a_mistyped_number_is_told_as_a_typo_before_any_lookup():
    application = await submitted()
    typo = application.number[:-2] + application.number[-1] + application.number[-2]
    with pytest.raises(UnknownApplication, match="typo"):
        await lifecycle().set_status(typo, S.VERIFYING, "", NOW)


async def test_a_well_formed_number_of_no_application_is_unknown():
    await submitted()
    with pytest.raises(UnknownApplication, match="no such application"):
        await lifecycle().set_status(application_number(NOW.date(), 99_999_999), S.VERIFYING, "", NOW)


async def test_a_number_is_read_whatever_its_case_and_spaces():
    application = await submitted()
    changed = await lifecycle().set_status(f"  {application.number.lower()} ", S.VERIFYING, "", NOW)
    assert changed.number == application.number and (await reloaded(application)).status is S.VERIFYING


async def test_the_same_change_made_twice_is_one_change_and_one_push():
    application = await submitted()
    await advance(application.number, S.VERIFYING)
    again = await lifecycle().set_status(application.number, S.VERIFYING, "", NOW)
    assert again.repeat and again.told == ()
    assert await changes_of(application) == [S.SUBMITTED, S.VERIFYING]
    assert await Push.filter(key__startswith=f"status:{application.id}:").count() == 1


async def test_two_operators_making_the_same_change_at_once_make_it_once():
    application = await submitted()
    first, second = await asyncio.gather(
        lifecycle().set_status(application.number, S.VERIFYING, "", NOW),
        lifecycle().set_status(application.number, S.VERIFYING, "", NOW),
    )
    assert sorted([first.repeat, second.repeat]) == [False, True]
    assert await changes_of(application) == [S.SUBMITTED, S.VERIFYING]
    assert await Push.filter(key__startswith=f"status:{application.id}:").count() == 1


async def test_approval_and_rejection_at_once_one_wins_the_other_is_told_the_new_status():
    application = await submitted()
    await advance(application.number, S.VERIFYING, S.REVIEW)
    results = await asyncio.gather(
        lifecycle().set_status(application.number, S.APPROVED, "", NOW),
        lifecycle().set_status(application.number, S.REJECTED, "材料不全", NOW),
        return_exceptions=True,
    )
    [refused] = [r for r in results if isinstance(r, IllegalTransition)]
    [won] = [r for r in results if not isinstance(r, BaseException)]
    assert refused.current is won.status
    assert await changes_of(application) == [S.SUBMITTED, S.VERIFYING, S.REVIEW, won.status]
    assert (await reloaded(application)).status is won.status
    assert await Push.filter(key__startswith=f"status:{application.id}:").count() == 3


async def test_the_push_carries_the_template_fields_and_the_receipt_link():
    application = await submitted()
    await advance(application.number, S.VERIFYING)
    push = await Push.get(key=f"status:{application.id}:verifying")
    assert (push.kind, push.template, push.due_at) == ("application_status", "application_status", NOW)
    assert push.data == {
        "character_string1": application.number,
        "phrase2": "部门核查中",
        "time3": "2026-03-02 10:30",  # Shenzhen time
        "thing4": "相关部门核查中，约3个工作日",
    }
    receipt = await Receipt.get(application_id=application.id)
    token = push.url.removeprefix("https://bot.example.gov.cn/r/")
    assert receipts().read(token, NOW) == receipt.id


async def test_an_operators_note_is_what_the_resident_reads_next():
    application = await submitted()
    await lifecycle().set_status(application.number, S.VERIFYING, "请保持手机畅通", NOW)
    assert (await Push.get(key=f"status:{application.id}:verifying")).data["thing4"] == "请保持手机畅通"


@pytest.mark.parametrize("status", list(S))
def test_every_status_label_fits_a_phrase_and_is_read_as_the_status(status):
    assert len(STATUS_LABELS[status]) <= 5
    assert parse_status(status.label) is status and parse_status(status.value.upper()) is status


def test_an_unknown_status_reads_as_none():
    assert parse_status("done") is None


async def test_template_fields_stay_within_wechats_limits_however_long_the_words():
    long_point = "深圳市南山区粤海街道办事处科技园社区工作站居住证受理点"
    account = await verified_account("o_resident_1", ID)
    application = await application_for(account, ID, point=long_point)
    await advance(application.number, *TO_COLLECTION[:-1])
    ready = (await Push.get(key=f"status:{application.id}:ready")).data
    assert ready["thing4"].startswith("请到深圳市南山区") and ready["thing4"].endswith("…领取")
    await advance(application.number, S.COLLECTED)
    other = await application_for(await verified_account("o_resident_2", OTHER_ID), OTHER_ID)
    await advance(other.number, S.VERIFYING, S.REVIEW)
    reason = "经核查，申请人提交的居住登记信息与实际居住情况不符，" * 3
    await lifecycle().set_status(other.number, S.REJECTED, reason, NOW)
    for push in await Push.all():
        assert len(push.data["character_string1"]) <= 32
        assert len(push.data["phrase2"]) <= 5
        assert 0 < len(push.data["thing4"]) <= 20
        assert len(push.data["time3"]) == len("2026-03-02 10:30")


async def test_a_units_application_is_pushed_to_the_unit_and_to_the_persons_own_bound_account():
    staff, unit = await unit_account("o_unit_staff")
    own = await verified_account("o_person", ID)
    application = await application_for(staff, ID, unit=unit)
    changed = await lifecycle().set_status(application.number, S.VERIFYING, "", NOW)
    assert [(r.username, r.bound) for r in changed.told] == [(staff.username, True), (own.username, True)]
    to_unit = await Push.get(key=f"status:{application.id}:verifying")
    to_person = await Push.get(key=f"status:{application.id}:verifying:person")
    assert (to_unit.account_id, to_person.account_id) == (staff.id, own.id)
    assert to_person.data == to_unit.data and to_person.url == to_unit.url


async def test_an_account_that_only_typed_the_persons_id_number_is_told_nothing():
    staff, unit = await unit_account("o_unit_staff")
    claimant = await verified_account("o_claimant", OTHER_ID)
    # It registered with the person's ID number, but verification never proved it theirs.
    await Account.filter(id=claimant.id).update(id_number_hash=person(ID), verified_id_hash=None)
    application = await application_for(staff, ID, unit=unit)
    changed = await lifecycle().set_status(application.number, S.VERIFYING, "", NOW)
    assert [r.username for r in changed.told] == [staff.username]
    assert await Push.filter(account_id=claimant.id).count() == 0


async def test_the_persons_own_account_not_bound_to_wechat_gets_no_push_of_its_own():
    staff, unit = await unit_account("o_unit_staff")
    own = await verified_account("o_person", ID)
    await own.fetch_related("binding")
    await own.binding.delete()
    application = await application_for(staff, ID, unit=unit)
    await advance(application.number, S.VERIFYING)
    assert await Push.filter(key__endswith=":person").count() == 0


async def test_no_full_id_number_in_the_pushes_or_the_log(caplog):
    caplog.set_level(logging.DEBUG)
    staff, unit = await unit_account("o_unit_staff")
    await verified_account("o_person", ID)
    application = await application_for(staff, ID, unit=unit)
    await advance(application.number, *TO_COLLECTION)
    written = json.dumps([p.data for p in await Push.all()], ensure_ascii=False)
    assert ID not in written and ID not in caplog.text
    assert application.number in caplog.text  # the changes are logged, by number
