"""The operators' back office: JSON under /admin/api, for `Authorization: Bearer <admin.token>`.

The API is a sub-application whose middleware checks the token, so no admin route can be added
without it. An empty admin.token turns the API off: every request gets 401.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiohttp import web

from bot.config import AdminConfig
from bot.services import Services
from bot.services.application_status import (
    IllegalTransition,
    StatusError,
    UnknownApplication,
    next_statuses,
    parse_status,
)
from bot.services.units import NewUnitAccount, UnitError, Units
from conversations import parsers
from models import ApplicationStatus

log = logging.getLogger(__name__)

CONFIG = web.AppKey("admin_config", AdminConfig)
# Set on the bot's app when it starts (bot/app.py), with the other services.
UNITS = web.AppKey("units", Units)
# The lifecycle, to change an application's status, and the push sender, to wake it after.
ADMIN_SERVICES = web.AppKey("admin_services", Services)

_UNIT_FIELDS = {"name", "uscc", "username", "phone"}
_UNIT_OPTIONAL = {"contact_name"}
_NAME_MAX = 100  # Unit.name
_CONTACT_MAX = 50  # Account.name

# Chinese as itself, so an operator reading the response with curl can read the messages.
_json_response = partial(web.json_response, dumps=partial(json.dumps, ensure_ascii=False))


def setup_admin(app: web.Application, config: AdminConfig) -> None:
    """Mount the admin API at /admin/api on the bot's app."""
    admin = web.Application(middlewares=[_bearer_auth])
    admin[CONFIG] = config
    admin.router.add_post("/units", create_unit)
    admin.router.add_patch("/applications/{number}", set_application_status)
    app.add_subapp("/admin/api", admin)


@web.middleware
async def _bearer_auth(request: web.Request, handler: Any) -> web.StreamResponse:
    expected = request.config_dict[CONFIG].token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # compare_digest: the time taken must not tell how much of a guess was right.
    if not (
        expected
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(errors="replace"), expected.encode())
    ):
        log.warning("admin API: refused %s %s from %s: no valid token", request.method, request.path, request.remote)
        return _json_response(
            {"error": "a valid admin token is required"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    return await handler(request)


async def create_unit(request: web.Request) -> web.Response:
    """POST /admin/api/units {name, uscc, username, phone, contact_name?} → 201 with the initial password."""
    try:
        body = await request.json()
    except ValueError:
        return _bad_request("body: not valid JSON / 请求内容不是有效的JSON")
    if not isinstance(body, dict):
        return _bad_request("body: must be a JSON object / 请求内容应为JSON对象")
    if unknown := sorted(body.keys() - _UNIT_FIELDS - _UNIT_OPTIONAL):
        return _bad_request(f"{unknown[0]}: unknown field / 未知字段")
    for field in sorted(_UNIT_FIELDS):
        if field not in body:
            return _bad_request(f"{field}: required / 必填")
        if not isinstance(body[field], str):
            return _bad_request(f"{field}: must be a string / 应为文字")
    if not isinstance(body.get("contact_name", ""), str | None):
        return _bad_request("contact_name: must be a string / 应为文字")
    try:
        account, password = await request.config_dict[UNITS].open_account(unit_form(**body))
    except UnitError as exc:
        return _bad_request(exc.message)
    unit = account.unit
    assert unit is not None  # open_account returns a unit account with its unit loaded
    return _json_response(
        {
            "unit": {"id": unit.id, "name": unit.name, "uscc": unit.uscc},
            "username": account.username,
            "initial_password": password,
        },
        status=201,
        # The password is shown once: no cache along the way may keep a copy.
        headers={"Cache-Control": "no-store"},
    )


async def set_application_status(request: web.Request) -> web.Response:
    """PATCH /admin/api/applications/{number} {status, note?} → 200 with the application's state;
    404 for an unknown number, 409 with the allowed statuses for an illegal transition."""
    try:
        body = await request.json()
    except ValueError:
        return _bad_request("body: not valid JSON / 请求内容不是有效的JSON")
    if not isinstance(body, dict):
        return _bad_request("body: must be a JSON object / 请求内容应为JSON对象")
    if unknown := sorted(body.keys() - {"status", "note"}):
        return _bad_request(f"{unknown[0]}: unknown field / 未知字段")
    if not isinstance(body.get("status"), str):
        return _bad_request("status: required, a string / 必填")
    note = body.get("note") or ""
    if not isinstance(note, str):
        return _bad_request("note: must be a string / 应为文字")
    status = parse_status(body["status"])
    if status is None:
        return _bad_request(f"status: unknown, one of {', '.join(ApplicationStatus)} / 未知状态")
    services = request.config_dict[ADMIN_SERVICES]
    number = request.match_info["number"]
    try:
        changed = await services.application_status.set_status(number, status, note, datetime.now(UTC))
    except UnknownApplication as exc:
        return _json_response({"error": exc.message}, status=404)
    except IllegalTransition as exc:
        return _json_response({"error": exc.message, "status": exc.current, "allowed": exc.allowed}, status=409)
    except StatusError as exc:
        return _bad_request(exc.message)
    if not changed.repeat:
        services.push_sender.wake()  # the resident hears of it now, not at the sender's next scan
    return _json_response(
        {
            "number": changed.number,
            "status": changed.status,
            "label": changed.status.label,
            "note": changed.note,
            "changed_at": changed.changed_at.isoformat(),
            "allowed": next_statuses(changed.status),
            "repeat": changed.repeat,
            "told": len(changed.told),
        }
    )


def _bad_request(message: str) -> web.Response:
    return _json_response({"error": message}, status=400)


def unit_form(*, name: str, uscc: str, username: str, phone: str, contact_name: str | None = None) -> NewUnitAccount:
    """An operator's entries for a unit account (admin API or `residence-bot unit create`), checked;
    UnitError names the first wrong field and says why. The contact is the unit, when its name fits."""
    unit_name = _field("name", parsers.non_empty, name, max_len=_NAME_MAX)
    code = _field("uscc", parsers.uscc, uscc)
    mobile = _field("phone", parsers.cn_mobile, phone)
    username = _field("username", parsers.username, username)
    if contact_name is not None:
        contact = _field("contact_name", parsers.non_empty, contact_name, max_len=_CONTACT_MAX)
    elif len(unit_name) <= _CONTACT_MAX:
        contact = unit_name
    else:
        raise UnitError(
            f"contact_name: required for a unit name over {_CONTACT_MAX} characters / 单位名称较长，请填写联系人姓名"
        )
    return NewUnitAccount(name=unit_name, uscc=code, username=username, phone=mobile, contact_name=contact)


def _field(field: str, parse: Callable[..., str], text: str, **kwargs: int) -> str:
    try:
        return parse(text, **kwargs)
    except parsers.Invalid as exc:
        raise UnitError(f"{field}: {exc.message}") from None
