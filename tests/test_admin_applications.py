"""PATCH /admin/api/applications/{number}: operators move an application along, with the admin token;
the resident hears of it within seconds."""

from __future__ import annotations

import asyncio

import pytest

from bot.admin import ADMIN_SERVICES
from models import ApplicationStatus, ApplicationStatusChange, PermitApplication, Push
from models.application import application_number
from tests.harness import make_settings
from tests.lifecycle import NOW, advance, application_for
from tests.people import verified_account

ADMIN_TOKEN = "a-test-admin-token-123"
TEMPLATE_ID = "TPL_application_status_0001"
ID = "440304199001011233"
OPENID = "o_resident_1"
S = ApplicationStatus


@pytest.fixture
async def admin(start_bot, tmp_path):
    return await start_bot(make_settings(tmp_path, admin={"token": ADMIN_TOKEN}))


@pytest.fixture
async def application(database_ready) -> PermitApplication:
    return await application_for(await verified_account(OPENID, ID), ID)


def bearer(token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def patch(client, number: str, body, headers=None):
    return await client.patch(
        f"/admin/api/applications/{number}", json=body, headers=bearer() if headers is None else headers
    )


async def test_an_operator_moves_an_application_on_and_gets_its_new_state(admin, application):
    response = await patch(admin, application.number, {"status": "verifying"})
    assert response.status == 200
    body = await response.json()
    assert body == {
        "number": application.number,
        "status": "verifying",
        "label": "部门核查中",
        "note": "",
        "changed_at": body["changed_at"],
        "allowed": ["review"],
        "repeat": False,
        "told": 1,
    }
    assert (await PermitApplication.get(id=application.id)).status is S.VERIFYING
    assert await Push.filter(key=f"status:{application.id}:verifying").count() == 1


async def test_a_status_may_be_given_by_its_chinese_label(admin, application):
    response = await patch(admin, application.number, {"status": "部门核查中"})
    assert response.status == 200 and (await response.json())["status"] == "verifying"


async def test_a_rejection_carries_its_reason(admin, application):
    await advance(application.number, S.VERIFYING, S.REVIEW)
    response = await patch(admin, application.number, {"status": "rejected", "note": "居住登记信息与实际不符"})
    assert response.status == 200
    body = await response.json()
    assert (body["status"], body["note"], body["allowed"]) == ("rejected", "居住登记信息与实际不符", [])
    assert (await PermitApplication.get(id=application.id)).open_for is None


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no token"),
        pytest.param(bearer("a-wrong-admin-token-12"), id="wrong token"),
        pytest.param({"Authorization": f"Basic {ADMIN_TOKEN}"}, id="not bearer"),
    ],
)
async def test_without_the_admin_token_nothing_changes(admin, application, headers):
    response = await patch(admin, application.number, {"status": "verifying"}, headers=headers)
    assert response.status == 401
    assert (await PermitApplication.get(id=application.id)).status is S.SUBMITTED
    assert await ApplicationStatusChange.filter(application_id=application.id).count() == 1
    assert await Push.all().count() == 0


async def test_with_the_admin_api_off_nobody_changes_a_status(start_bot, tmp_path, application):
    client = await start_bot(make_settings(tmp_path, admin={"token": ""}))
    response = await patch(client, application.number, {"status": "verifying"}, headers=bearer(""))
    assert response.status == 401 and await Push.all().count() == 0


async def test_an_illegal_transition_is_409_with_the_current_and_the_allowed_statuses(admin, application):
    await advance(application.number, S.VERIFYING, S.REVIEW)
    response = await patch(admin, application.number, {"status": "producing"})
    assert response.status == 409
    body = await response.json()
    assert (body["status"], body["allowed"]) == ("review", ["approved", "rejected"])
    assert application.number in body["error"]
    assert (await PermitApplication.get(id=application.id)).status is S.REVIEW


async def test_an_unknown_number_is_404(admin, application):
    response = await patch(admin, application_number(NOW.date(), 99_999_999), {"status": "verifying"})
    assert response.status == 404 and "error" in await response.json()


async def test_a_mistyped_number_is_404_saying_so(admin, application):
    typo = application.number[:-2] + application.number[-1] + application.number[-2]
    response = await patch(admin, typo, {"status": "verifying"})
    assert response.status == 404 and "typo" in (await response.json())["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "status", id="no status"),
        pytest.param({"status": 2}, "status", id="status not a string"),
        pytest.param({"status": "finished"}, "status", id="unknown status"),
        pytest.param({"status": "verifying", "note": 5}, "note", id="note not a string"),
        pytest.param({"status": "verifying", "reason": "x"}, "reason", id="unknown field"),
        pytest.param(["verifying"], "body", id="not an object"),
    ],
)
async def test_a_bad_body_is_400_naming_the_field(admin, application, body, field):
    response = await patch(admin, application.number, body)
    assert response.status == 400
    assert (await response.json())["error"].startswith(f"{field}:")
    assert await Push.all().count() == 0


async def test_malformed_json_is_400(admin, application):
    response = await admin.patch(f"/admin/api/applications/{application.number}", data=b'{"status": ', headers=bearer())
    assert response.status == 400 and (await response.json())["error"].startswith("body:")


async def test_a_rejection_without_a_reason_is_400_and_nothing_changes(admin, application):
    await advance(application.number, S.VERIFYING, S.REVIEW)
    response = await patch(admin, application.number, {"status": "rejected", "note": " "})
    assert response.status == 400 and (await response.json())["error"].startswith("note:")
    assert (await PermitApplication.get(id=application.id)).status is S.REVIEW


async def test_a_retried_request_changes_nothing_more_and_wakes_nobody(admin, application, monkeypatch):
    woken: list[bool] = []
    monkeypatch.setattr(admin.app[ADMIN_SERVICES].push_sender, "wake", lambda: woken.append(True))
    first = await patch(admin, application.number, {"status": "verifying"})
    again = await patch(admin, application.number, {"status": "verifying"})
    assert first.status == again.status == 200
    assert (await again.json())["repeat"] is True and (await again.json())["told"] == 0
    assert woken == [True]
    assert await ApplicationStatusChange.filter(application_id=application.id).count() == 2
    assert await Push.all().count() == 1


async def test_the_resident_gets_the_template_message_within_seconds(start_bot, tmp_path, fake_wechat, application):
    settings = make_settings(
        tmp_path,
        admin={"token": ADMIN_TOKEN},
        wechat={
            "app_id": fake_wechat.app_id,
            "app_secret": fake_wechat.app_secret,
            "api_base_url": fake_wechat.url,
            "templates": {"application_status": TEMPLATE_ID},
        },
    )
    client = await start_bot(settings)
    assert (await patch(client, application.number, {"status": "verifying"})).status == 200
    for _ in range(100):  # the sender's scan interval is 30 s: only the wake gets it here this soon
        if fake_wechat.sent_templates:
            break
        await asyncio.sleep(0.05)
    [sent] = fake_wechat.sent_templates
    assert sent["touser"] == OPENID and sent["template_id"] == TEMPLATE_ID
    assert sent["data"]["character_string1"] == {"value": application.number}
    assert sent["data"]["phrase2"] == {"value": "部门核查中"}
    assert sent["url"].startswith(f"{settings.server.public_base_url.rstrip('/')}/r/")
    assert ID not in str(sent)
