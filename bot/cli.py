"""`residence-bot` (also `python -m bot`): the operator's commands (SPEC §5)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

DEV_WECHAT_PORT = 8081
DEV_WECHAT_URL = f"http://127.0.0.1:{DEV_WECHAT_PORT}"

# The record imports (bot/imports) and their CSV columns, here so that `--help` needs no import of them.
RECORD_IMPORTS = {
    "social-insurance": "id_number,name,month(YYYY-MM),employer",
    "residence": "id_number,name,address,move_in_on,declared_on,move_out_on(optional)",
    "permits": "permit_no,id_number,name,issued_on,last_endorsed_on(optional)",
    "talents": "id_number,name,category,certified_on",
    "students": "id_number,name,school,enrolled_on,expected_graduation_on",
}


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    setup_logging(settings.logging)
    try:
        code = args.run(settings, args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    sys.exit(code or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="residence-bot", description="居住证助手 WeChat bot")
    parser.add_argument("--config", help="config file (default: $RB_CONFIG or ./config.yaml)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web app")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run the job worker (arq, needs redis.url): sends the pushes")
    worker.set_defaults(run=_worker)

    initdb = commands.add_parser("initdb", help="create the schema and load the configured acceptance points")
    initdb.set_defaults(run=_initdb)
    migrate = commands.add_parser("migrate", help="apply pending schema migrations")
    migrate.set_defaults(run=_migrate)

    menu = commands.add_parser("menu", help="the account's custom menu").add_subparsers(
        dest="menu_command", required=True, metavar="ACTION"
    )
    menu_sync = menu.add_parser("sync", help="create the custom menu through the WeChat API")
    menu_sync.set_defaults(run=_menu_sync)

    demo = commands.add_parser("demo-data", help="load demo residents for every path (development)")
    demo.set_defaults(run=_demo_data)

    chat = commands.add_parser("chat", help="talk to a running bot over the real callback protocol")
    chat.add_argument("--url", help="callback URL (default: http://HOST:PORT/wechat from the config)")
    chat.add_argument("--openid", default="o_chat_terminal_user", help="the resident's OpenID")
    chat.add_argument("--safe", action="store_true", help="encrypt as in safe mode")
    chat.add_argument("--script", type=Path, help="replay this file, one message per line")
    chat.add_argument(
        "--wechat-api",
        default=DEV_WECHAT_URL,
        metavar="URL",
        help="the development stand-in for WeChat's API: /image uploads to it, and the messages the bot "
        f"sends through the API are read from it (default: {DEV_WECHAT_URL})",
    )
    chat.set_defaults(run=_chat)

    dev_wechat = commands.add_parser(
        "dev-wechat", help="serve a development stand-in for WeChat's API on 127.0.0.1; never in production"
    )
    dev_wechat.add_argument("--port", type=int, default=DEV_WECHAT_PORT, help=f"default: {DEV_WECHAT_PORT}")
    dev_wechat.set_defaults(run=_dev_wechat)

    imports = commands.add_parser("import", help="load records from files").add_subparsers(
        dest="what", required=True, metavar="WHAT"
    )
    for what, columns in RECORD_IMPORTS.items():
        records = imports.add_parser(what, help=f"CSV: {columns}")
        records.add_argument("file", type=Path, metavar="FILE.csv")
        records.add_argument("--skip-bad", action="store_true", help="import the good rows of a file with bad rows")
        records.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        records.set_defaults(run=_import_records)
    points = imports.add_parser("acceptance-points", help="replace the acceptance points with a YAML list")
    points.add_argument("file", type=Path)
    points.set_defaults(run=_import_points)

    units = commands.add_parser("unit", help="unit accounts (单位账号)").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    unit_create = units.add_parser("create", help="open a unit account and print its initial password once")
    unit_create.add_argument("--name", required=True, help="the unit's name")
    unit_create.add_argument("--uscc", required=True, help="统一社会信用代码, 18 characters")
    unit_create.add_argument("--username", required=True, help="4-20 letters, digits or _")
    unit_create.add_argument("--phone", required=True, help="the contact's mainland mobile number")
    unit_create.add_argument("--contact", help="the contact's name (default: the unit's name)")
    unit_create.set_defaults(run=_unit_create)

    applications = commands.add_parser("application", help="permit applications (申领, 代办)").add_subparsers(
        dest="application_command", required=True, metavar="ACTION"
    )
    set_status = applications.add_parser(
        "set-status", help="move an application along its lifecycle and push the change to the resident"
    )
    set_status.add_argument("number", metavar="NUMBER", help="the application number (受理编号)")
    set_status.add_argument(
        "status",
        metavar="STATUS",
        help="verifying, review, approved, rejected, producing, ready or collected (or the Chinese label)",
    )
    set_status.add_argument("--note", default="", help="a word for the resident; a rejection's reason is required")
    set_status.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    set_status.set_defaults(run=_application_set_status)

    remind = commands.add_parser(
        "remind",
        help="run the endorsement reminder scan now, as if today were --as-of, and send what it finds at once "
        "(inside quiet hours: at their end)",
    )
    remind.add_argument("--as-of", type=_day, metavar="YYYY-MM-DD", help="the day to scan for (default: today)")
    remind.add_argument("--dry-run", action="store_true", help="print what would be reminded; write and send nothing")
    remind.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    remind.set_defaults(run=_remind)
    # `--config` is accepted after the command too, as SPEC §5 writes it.
    for sub in (serve, worker, initdb, migrate, demo, menu_sync, chat, dev_wechat, points, unit_create):
        sub.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import create_app
    from bot.state.factory import SingleProcessGuard

    guard = None
    if settings.state_backend == "memory":
        guard = SingleProcessGuard(Path("var/memory-state.pid"))
        guard.acquire()
    try:
        app = create_app(settings)
        print(
            f"residence-bot: serving on http://{settings.server.host}:{settings.server.port}/wechat "
            f"({settings.wechat.mode} mode, {settings.state_backend} state); `make chat` to talk to it",
            flush=True,
        )
        web.run_app(app, host=settings.server.host, port=settings.server.port, access_log=None, print=None)
    finally:
        if guard:
            guard.release()
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    if settings.state_backend != "redis":
        print(
            "worker: redis.url is not set; without Redis `residence-bot serve` sends the pushes in-process",
            file=sys.stderr,
        )
        return 2
    from bot.jobs import run_worker

    asyncio.run(run_worker(settings))
    return 0


def _initdb(settings: Settings, args: argparse.Namespace) -> int:
    from bot import db
    from bot.imports.acceptance_points import ImportFileError, load_points_if_empty

    async def run() -> None:
        await db.initdb(settings.database.url)
        async with db.Database(settings.database.url):
            loaded = await load_points_if_empty(settings.data.acceptance_points)
        if loaded:
            print(f"loaded {loaded} acceptance points from {settings.data.acceptance_points}")

    try:
        asyncio.run(run())
    except ImportFileError as exc:
        print(f"{settings.data.acceptance_points}: acceptance points not loaded:\n{exc}", file=sys.stderr)
        return 1
    print(f"database ready: {db.dialect_of(settings.database.url)}")
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot import db

    applied = asyncio.run(db.migrate(settings.database.url))
    print("applied: " + ", ".join(applied) if applied else "schema is up to date")
    return 0


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.dev.chat import run_chat

    url = args.url or f"http://{settings.server.host}:{settings.server.port}/wechat"
    w = settings.wechat
    return asyncio.run(
        run_chat(
            url=url,
            openid=args.openid,
            token=w.token,
            app_id=w.app_id,
            encoding_aes_key=w.encoding_aes_key,
            original_id=w.original_id,
            safe=args.safe,
            script=args.script,
            wechat_api=args.wechat_api,
        )
    )


def _dev_wechat(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.config import DEV_APP_SECRET
    from bot.dev.wechat_standin import DevWeChat

    if settings.app.environment == "production":
        print(
            "dev-wechat: refused: app.environment is production, where the bot talks to WeChat's own servers",
            file=sys.stderr,
        )
        return 2
    stand_in = DevWeChat(settings.wechat.app_id, DEV_APP_SECRET)
    stand_in.url = f"http://127.0.0.1:{args.port}"
    print(
        f"dev-wechat: a development stand-in for WeChat's servers on {stand_in.url} (AppID {stand_in.app_id}); "
        "never use it in production",
        flush=True,
    )
    try:
        # No access log: it would print each URL, access_token included.
        web.run_app(stand_in.make_app(), host="127.0.0.1", port=args.port, access_log=None, print=None)
    except OSError as exc:
        print(f"dev-wechat: cannot listen on {stand_in.url}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def _import_points(settings: Settings, args: argparse.Namespace) -> int:
    from bot import db
    from bot.imports.acceptance_points import ImportFileError, load_points_file, replace_points

    try:
        rows = load_points_file(args.file)
    except ImportFileError as exc:
        print(f"{args.file}: nothing imported:\n{exc}", file=sys.stderr)
        return 1

    async def run() -> tuple[int, int, int]:
        async with db.Database(settings.database.url):
            return await replace_points(rows)

    added, updated, removed = asyncio.run(run())
    print(f"{args.file}: {len(rows)} acceptance points; added {added}, updated {updated}, removed {removed}")
    return 0


def _import_records(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import datetime

    from bot import db
    from bot.imports import KINDS, FileRefused, Report, import_file
    from bot.services.security import FieldCipher
    from models.rules import SHENZHEN

    async def run() -> Report:
        async with db.Database(settings.database.url):
            return await import_file(
                KINDS[args.what],
                args.file,
                lookup_hash=FieldCipher(settings.security.field_key).lookup_hash,
                today=datetime.now(SHENZHEN).date(),
                rules=settings.rules.as_rules(),
                skip_bad=args.skip_bad,
                progress=sys.stderr,
            )

    try:
        report = asyncio.run(run())
    except FileRefused as exc:
        print(f"{args.file}: nothing imported: {exc}", file=sys.stderr)
        return 1
    if not report.written:
        good = report.rows - report.bad
        print(
            f"{args.file}: nothing imported: {report.bad:,} bad rows (--skip-bad imports the other {good:,}):",
            file=sys.stderr,
        )
    elif report.bad:
        print(f"{args.file}: {report.bad:,} bad rows skipped:", file=sys.stderr)
    for line in report.bad_lines():
        print(line, file=sys.stderr)
    if not report.written:
        return 1
    print(f"{args.file}: {report.summary()}")
    return 0


def _unit_create(settings: Settings, args: argparse.Namespace) -> int:
    from bot import db
    from bot.admin import unit_form
    from bot.services.accounts import Accounts
    from bot.services.units import UnitError, Units
    from models.account import Account

    units = Units(Accounts(settings.accounts))

    async def run() -> tuple[Account, str]:
        new = unit_form(
            name=args.name, uscc=args.uscc, username=args.username, phone=args.phone, contact_name=args.contact
        )
        async with db.Database(settings.database.url):
            return await units.open_account(new)

    try:
        account, password = asyncio.run(run())
    except UnitError as exc:
        print(f"unit account not created: {exc.message}", file=sys.stderr)
        return 1
    unit = account.unit
    assert unit is not None  # open_account returns a unit account with its unit loaded
    print(f"unit: {unit.name} (USCC {unit.uscc})")
    print(f"username: {account.username}")
    print(f"initial password: {password}")
    print("Hand it over now: it will not be shown again, and the first login requires changing it.")
    print("初始密码只显示这一次，首次登录时须修改密码。")
    return 0


def _application_set_status(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    import aiohttp

    from bot import db
    from bot.metrics import Metrics
    from bot.services import Services
    from bot.services.application_status import Changed, StatusError, parse_status
    from bot.state import open_store
    from models import ApplicationStatus
    from models.rules import SHENZHEN

    status = parse_status(args.status)
    if status is None:
        print(
            f"application set-status: unknown status {args.status!r}; one of: {', '.join(ApplicationStatus)}",
            file=sys.stderr,
        )
        return 2

    async def run() -> tuple[Changed, int]:
        store = open_store(settings)
        try:
            async with aiohttp.ClientSession() as session, db.Database(settings.database.url):
                services = Services.build(settings, store, session, Metrics())
                changed = await services.application_status.set_status(
                    args.number, status, args.note, datetime.now(UTC)
                )
                # No sender runs in this process: send the change's pushes now, through the outbox's
                # claims, so the resident hears of it within seconds (a running sender may take some).
                sent = 0 if changed.repeat else await services.push_sender.send_due()
                return changed, sent
        finally:
            await store.close()

    try:
        changed, sent = asyncio.run(run())
    except StatusError as exc:
        print(f"application set-status: {exc.message}", file=sys.stderr)
        return 1
    when = f"{changed.changed_at.astimezone(SHENZHEN):%Y-%m-%d %H:%M}"
    if changed.repeat:
        print(f"{changed.number}: {changed.status} ({changed.status.label}) already, since {when}; nobody told again")
        return 0
    print(
        f"{changed.number}: {changed.previous} ({changed.previous.label}) → {changed.status} "
        f"({changed.status.label}) at {when}"
    )
    if changed.note:
        print(f"note: {changed.note}")
    for recipient in changed.told:
        bound = "bound to WeChat" if recipient.bound else "not bound to WeChat: the push is skipped"
        print(f"told: account {recipient.username} ({bound})")
    if not settings.wechat.templates.application_status:
        print("wechat.templates.application_status is not set: status pushes are skipped, not sent")
    print(f"pushes sent now: {sent}")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _remind(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    import aiohttp

    from bot import db
    from bot.metrics import Metrics
    from bot.services import Services
    from bot.services.reminders import Found, reminder_text
    from bot.state import open_store
    from models.rules import SHENZHEN

    as_of: date = args.as_of or datetime.now(SHENZHEN).date()

    async def run() -> tuple[list[Found], int]:
        store = open_store(settings)
        try:
            async with aiohttp.ClientSession() as session, db.Database(settings.database.url):
                services = Services.build(settings, store, session, Metrics())
                found = await services.reminders.scan(as_of, due_at=datetime.now(UTC), dry_run=args.dry_run)
                # Sent from here through the outbox's claims, as set-status does: at once (quiet hours
                # aside), whatever reminders.send_hour says; a running worker may take some of them.
                sent = 0 if args.dry_run else await services.push_sender.send_due()
                return found, sent
        finally:
            await store.close()

    found, sent = asyncio.run(run())
    for item in found:
        reminder = item.reminder
        before = "  (written before: not again)" if item.existing else ""
        print(
            f"{item.permit_no}  {item.holder}  {reminder.kind}  deadline {reminder.status.deadline.isoformat()}  "
            f"last day {reminder.last_day.isoformat()}  {reminder_text(reminder)}{before}"
        )
    new = sum(not item.existing for item in found)
    if args.dry_run:
        print(f"{len(found)} reminder(s) for {as_of.isoformat()}; dry run: nothing written or sent")
        return 0
    print(f"{len(found)} reminder(s) for {as_of.isoformat()}, {new} new; pushes sent now: {sent}")
    if not settings.wechat.templates.endorsement_reminder:
        print("wechat.templates.endorsement_reminder is not set: reminders are skipped, not sent")
    return 0


def _demo_data(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import datetime

    from bot import db
    from bot.dev.demo import PASSWORD, load_demo
    from models.rules import SHENZHEN

    if settings.app.environment == "production":
        print("demo-data: refused in production (app.environment)", file=sys.stderr)
        return 2

    async def run() -> list:
        async with db.Database(settings.database.url):
            return await load_demo(settings.security.field_key, datetime.now(SHENZHEN).date())

    made = asyncio.run(run())
    print(f"demo residents (password for all: {PASSWORD}):")
    for resident, masked in made:
        print(f"  {resident.username:<16} {resident.name}  {masked}  {resident.path}")
    return 0


def _menu_sync(settings: Settings, args: argparse.Namespace) -> int:
    import json

    import aiohttp

    from bot.state import open_store
    from bot.wechat.api import WeChatAPI, WeChatAPIError
    from conversations.registry import FLOWS
    from handlers.menu import custom_menu

    if not settings.wechat.app_secret:
        print("menu sync: wechat.app_secret is not set (RB_WECHAT__APP_SECRET)", file=sys.stderr)
        return 2
    menu = custom_menu(flow.key for flow in FLOWS)

    async def run() -> None:
        store = open_store(settings)
        try:
            async with aiohttp.ClientSession() as session:
                api = WeChatAPI.configured(settings.wechat, session, store)
                assert api is not None  # the secret was checked above
                await api.create_menu(menu)
        finally:
            await store.close()

    try:
        asyncio.run(run())
    except WeChatAPIError as exc:
        print(f"menu sync: WeChat refused the menu: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(menu, ensure_ascii=False, indent=2))
    print("menu sync: the custom menu is set; WeChat clients show it within about five minutes")
    return 0
