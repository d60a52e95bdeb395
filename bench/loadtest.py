"""The load test (`make loadtest`) and the soak run (`make soak`): residents walking whole paths through two
`serve` processes with WeChat's retries, two workers sending the pushes; afterwards nothing lost, nothing doubled.

What runs, all on loopback, in a temporary directory removed afterwards: a private PostgreSQL and
redis-server (tests/services.py), two `residence-bot serve` and two `residence-bot worker` processes
(tests/processes.py) sharing them, and in this process the development stand-in for WeChat's API
(`DevWeChat`: token, template sends with WeChat's client_msg_id dedup, media/get for the ID-card photos,
customer-service messages) and the tests' fake SMS gateway, whose record of every code sent is how a
resident reads theirs. Each delivery goes to the next `serve` process in turn, as a round-robin proxy
would send it, so a retry of a message usually lands on the other process.

Before the run the records other departments hold are imported with `residence-bot import`: for every
resident 14 months of residence registration and social insurance (so 办证资格 finds them eligible),
and permits for the holders. Three kinds of resident, each walking every step through the real flows
and checking each reply:
  applicant  关注 → 注册 → 实名认证 (click, ID-card photo) → 居住登记 → 办证资格 → 申领 → 回执; the
             operator then moves the application to 核验中 through the admin API, twice (two
             operators at once): one status push
  holder     … → 办证资格 (in the window: 签注) → 签注 → 回执: one endorsement push
  reminded   a permit 7 days before its window's last day: … → 办证资格 → 回执; once every reminded
             resident is verified both workers are restarted (a deploy), and each runs the day's
             reminder scan as it starts, both at once: one reminder push
Every message and event is delivered once, twice or three times with the same MsgId / CreateTime:
some repeats while the first is still running, some 5 s after the delivery before, as WeChat does. A
delivery the bot answers with no reply (over its budget) is answered by a customer-service message.

Checks, from the database and the stand-in's record: one account per resident, bound to their OpenID
and verified; one registration the bot took, one application, one endorsement where due; one push row
per status change, endorsement and reminder, and nothing else, each sent; one template message
delivered per row (a repeat of a row's client_msg_id, which WeChat drops, counted apart); one SMS
code per phone; every delivery answered (HTTP 200) and every repeat of a message given the same reply;
every path walked to its end. It prints throughput, p50/p99 latency, the retries sent and those the
bot recognised, and last `N residents, M deliveries, L lost, D doubled`; exits 1 on any loss or double.

Soak (`--minutes M --rate R`): residents arrive at R a second for M minutes instead of all at once;
the RSS of each process (VmRSS of /proc/PID/status) is sampled every --sample-s seconds, printed with
the least-squares slope (KB/min) over each process's samples, and the same checks are made at the end.

Usage: .venv/bin/python bench/loadtest.py [--residents 500] [--ramp-s 120] [--think-s 2] [--seed 1]
       .venv/bin/python bench/loadtest.py --minutes 30 --rate 2
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

import aiohttp
import asyncpg
from aiohttp import web
from redis import Redis

REPO = Path(__file__).resolve().parent.parent
# tests/ is not an installed package: its servers, processes and fakes are reused from the repository.
sys.path.insert(0, str(REPO))

from bot.config import DEV_APP_SECRET  # noqa: E402
from bot.dev.chat import SAMPLE_PHOTO, WECHAT_WAIT_S, ChatClient, ChatError  # noqa: E402
from bot.dev.demo import demo_id_number  # noqa: E402
from bot.dev.wechat_standin import TEMPLATE_PATH, DevWeChat  # noqa: E402
from bot.dispatch import BUSY as DISPATCH_BUSY  # noqa: E402
from bot.dispatch import STILL_WORKING  # noqa: E402
from bot.services.security import BUSY as PASSWORDS_BUSY  # noqa: E402
from bot.services.security import FieldCipher  # noqa: E402
from models.application import is_application_number  # noqa: E402
from models.eligibility import add_months  # noqa: E402
from models.permit_cycle import period_status  # noqa: E402
from models.records import add_years, month_index  # noqa: E402
from models.rules import SHENZHEN, Rules  # noqa: E402
from tests.fake_sms import PATH as SMS_PATH  # noqa: E402
from tests.fake_sms import FakeSms  # noqa: E402
from tests.harness import AES_KEY, APP_ID, FIELD_KEY, ORIGINAL_ID, TOKEN  # noqa: E402
from tests.processes import ServeProcess, WorkerProcess, bot_env, run_cli  # noqa: E402
from tests.services import HOST, PostgresServer, RedisServer, free_port  # noqa: E402

Kind = Literal["applicant", "holder", "reminded"]
ADMIN_TOKEN = "loadtest-admin-token-0000000000"
STATUS_TEMPLATE, REMINDER_TEMPLATE = "TPL_application_status_load", "TPL_endorsement_reminder_load"
# The bot's answers that ask to send again: the dispatcher's, and the password hashers' when full.
BUSY_REPLIES = (DISPATCH_BUSY, STILL_WORKING, PASSWORDS_BUSY)
MAX_RESENDS = 10
WECHAT_RETRY_S = 5.0  # WeChat delivers again when no reply came within 5 s, three deliveries in all
LATE_WAIT_S = 30.0  # how long a resident waits for the customer-service message of a late reply
PUSHES_WAIT_S = 180.0  # how long after the walks the pushes may take to be sent
HOLDER_DAYS_LEFT, REMINDED_DAYS_LEFT = 20, 7  # days to the window's last day: no reminder today, and due7
APPLICATION_NUMBER = re.compile(r"申领已受理：(\w+)")
SURNAMES, GIVEN = "张王李赵陈刘杨黄吴周", "伟芳娜敏静丽强磊军洋"


def today() -> date:
    return datetime.now(SHENZHEN).date()


# -- the residents ------------------------------------------------------------------------------
@dataclass
class Resident:
    n: int
    kind: Kind
    transcript: list[str] = field(default_factory=list)
    done: bool = False
    failure: str = ""
    push_due: bool = False  # what causes this resident's push was done
    verified: bool = False

    @property
    def openid(self) -> str:
        return f"oLoadTest{self.n:019d}"

    @property
    def id_number(self) -> str:
        # demo_id_number's sequence has three digits: a new birthday every 900 residents.
        birth = date(1985, 1, 1) + timedelta(days=self.n // 900)
        return demo_id_number(f"{birth:%Y%m%d}", 100 + self.n % 900)

    @property
    def name(self) -> str:
        return SURNAMES[self.n % 10] + GIVEN[self.n // 10 % 10] + GIVEN[self.n // 100 % 10]

    @property
    def phone(self) -> str:
        return f"139{self.n:08d}"

    @property
    def username(self) -> str:
        return f"load_{self.n:06d}"

    @property
    def permit_no(self) -> str:
        return f"4403002025{self.n:06d}"

    @property
    def photo(self) -> str:
        return f"MEDIA_ID_CARD_{self.n:06d}"


def kinds(count: int) -> list[Kind]:
    """The reminded first (a tenth, at least one), so that the workers' restart comes early; then
    holders and applicants alternating."""
    reminded = max(1, count // 10)
    rest: list[Kind] = ["holder" if i % 2 else "applicant" for i in range(count - reminded)]
    return ["reminded"] * reminded + rest


def issued_on(days_left: int, rules: Rules) -> date:
    """An issue date whose first window closes `days_left` days from today."""
    issued = add_years(today() + timedelta(days=days_left), -1)
    status = period_status(issued, add_years(issued, 1), today(), rules)
    assert status.state == "window" and (status.window_closes - today()).days == days_left, status
    return issued


def write_imports(residents: list[Resident], directory: Path, rules: Rules) -> list[tuple[str, Path]]:
    """The CSV files of what other departments hold, as `residence-bot import` reads them."""
    since = add_months(today(), -14)
    last = month_index(today().year, today().month) - 1
    months = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(last - 13, last + 1)]
    address = "南山区粤海街道科苑路15号1栋1201"
    files = {
        "residence": ["id_number,name,address,move_in_on,declared_on,move_out_on"]
        + [f"{r.id_number},{r.name},{address},{since},{since}," for r in residents],
        "social-insurance": ["id_number,name,month,employer"]
        + [f"{r.id_number},{r.name},{m},深圳示例科技有限公司" for r in residents for m in months],
        "permits": ["permit_no,id_number,name,issued_on,last_endorsed_on"]
        + [
            f"{r.permit_no},{r.id_number},{r.name},{issued_on(days, rules)},"
            for r in residents
            if (days := {"holder": HOLDER_DAYS_LEFT, "reminded": REMINDED_DAYS_LEFT}.get(r.kind))
        ],
    }
    paths = []
    for what, lines in files.items():
        path = directory / f"{what}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append((what, path))
    return paths


# -- deliveries -----------------------------------------------------------------------------------
@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # every answered delivery's, s
    deliveries: int = 0
    retries: int = 0  # deliveries after a message's first
    unanswered: list[str] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)  # a repeat given another reply than the first
    late: int = 0  # messages answered by a customer-service message
    resent: int = 0  # messages a resident sent again after a busy reply
    started: float = 0.0
    finished: float = 0.0


class Conversation:
    """One resident's chat: each message delivered once to three times, alternating between the
    `serve` processes, the replies compared, the expected words checked."""

    def __init__(self, run: Run, resident: Resident) -> None:
        self.run = run
        self.resident = resident
        self.rng = random.Random(run.seed * 1_000_003 + resident.n)
        self.clients = [
            ChatClient(
                serve.url, openid=resident.openid, token=TOKEN, app_id=APP_ID, encoding_aes_key=AES_KEY,
                original_id=ORIGINAL_ID, session=run.session,
            )
            for serve in run.serves
        ]  # fmt: skip
        self.custom_seen = 0  # customer-service messages to this resident already read

    async def text(self, text: str, expect: str) -> str:
        return await self.say(f"> {text}", lambda: self.clients[0].push("text", Content=text), expect)

    async def click(self, key: str, expect: str) -> str:
        return await self.say(f"> [click {key}]", lambda: self.clients[0].push("event", Event="CLICK", EventKey=key),
                              expect)  # fmt: skip

    async def event(self, event: str, expect: str) -> str:
        return await self.say(f"> [{event}]", lambda: self.clients[0].push("event", Event=event), expect)

    async def image(self, media_id: str, expect: str) -> str:
        return await self.say(
            "> [image]", lambda: self.clients[0].push("image", PicUrl="http://mmbiz.qpic.cn/load/0", MediaId=media_id),
            expect,
        )  # fmt: skip

    async def say(self, shown: str, push: Callable[[], str], expect: str) -> str:
        """Send what `push` builds as WeChat would, and return the reply; AssertionError when it lacks
        `expect`. A reply that says the bot is busy is what a person sends again, a moment later."""
        for _ in range(MAX_RESENDS):
            reply = await self._message(push())
            self.resident.transcript += [shown, reply if reply is not None else "(no answer)"]
            if reply is None or not reply.startswith(BUSY_REPLIES):
                break
            self.run.tally.resent += 1
            await asyncio.sleep(self.rng.uniform(1, 3))
        if reply is None or expect not in reply:
            raise AssertionError(f"expected {expect!r}")
        await asyncio.sleep(self.rng.uniform(0, 2 * self.run.think_s))
        return reply

    async def _message(self, xml: str) -> str | None:
        """One message delivered once, twice or three times; the reply the resident reads."""
        run = self.run
        copies = self.rng.choices((1, 2, 3), weights=(5, 3, 2))[0]
        deliveries = [asyncio.create_task(self._deliver(xml))]
        after = 0.0
        for _ in range(copies - 1):
            if self.rng.random() < 0.5:  # while the first is still running
                deliveries.append(asyncio.create_task(self._deliver(xml, delay=self.rng.uniform(0.0, 0.05))))
            else:
                after += WECHAT_RETRY_S
                deliveries.append(asyncio.create_task(self._deliver(xml, delay=after)))
        run.tally.retries += copies - 1
        # The repeats are compared when all have come back; the resident goes on meanwhile.
        run.background(self._same_replies(deliveries))
        reply = await deliveries[0]
        if reply == "":  # over the bot's budget: the answer follows as a customer-service message
            reply = await self._late_reply()
        return reply

    async def _deliver(self, xml: str, delay: float = 0.0) -> str | None:
        if delay:
            await asyncio.sleep(delay)
        run = self.run
        client = self.clients[next(run.turns)]
        run.tally.deliveries += 1
        started = time.perf_counter()
        try:
            reply = await client.send_xml(xml)
        except ChatError as exc:
            run.tally.unanswered.append(f"{self.resident.openid}: {exc}")
            return None
        run.tally.latencies.append(time.perf_counter() - started)
        return reply

    async def _same_replies(self, deliveries: list[asyncio.Task[str | None]]) -> None:
        """Every delivery of a message that got an answer got the same one ('' and the busy replies
        are no answer yet: WeChat then waits for the next delivery or the customer-service message)."""
        replies = {r for r in await asyncio.gather(*deliveries) if r and not r.startswith(BUSY_REPLIES)}
        if len(replies) > 1:
            shown = " ≠ ".join(repr(r[:50]) for r in replies)
            self.run.tally.inconsistent.append(f"{self.resident.openid}: {shown}")

    async def _late_reply(self) -> str | None:
        self.run.tally.late += 1
        deadline = time.monotonic() + LATE_WAIT_S
        while time.monotonic() < deadline:
            mine = [m for m in self.run.wechat.sent if m.kind == "custom" and m.openid == self.resident.openid]
            if len(mine) > self.custom_seen:
                self.custom_seen += 1
                return (mine[self.custom_seen - 1].payload.get("text") or {}).get("content", "")
            await asyncio.sleep(0.2)
        return None


async def walk(run: Run, resident: Resident) -> None:
    """The resident's whole path, every reply checked for the words of the next question."""
    chat = Conversation(run, resident)
    r = resident
    await chat.event("subscribe", "注册")
    await chat.text("注册", "姓名")
    await chat.text(r.name, "身份证号码")
    await chat.text(r.id_number, "户籍地址")
    await chat.text("湖南省长沙市岳麓区麓山路1号", "手机号码")
    await chat.text(r.phone, "短信验证码")
    await chat.text(run.sms.last_code(r.phone), "用户名")
    await chat.text(r.username, "设置密码")
    await chat.text("mima2024ab", "同意")
    await chat.text("同意", "确认")
    await chat.text("确认", "注册成功")
    await chat.click("REALNAME", "姓名")
    await chat.text(r.name, "身份证号码")
    await chat.text(r.id_number, "照片")
    await chat.image(r.photo, "实名认证已通过")
    r.verified = True
    if r.kind == "reminded":
        r.push_due = True
        run.reminded_settled()
    await chat.text("居住登记", "入住")
    for answer, expect in (
        ("1", "区"), ("南山", ""), ("粤海街道科苑路15号1栋1201", ""), ("无", ""),
        ("租赁住房", ""), ("今天", ""), ("无", ""), ("务工就业", ""),
        ("13900139000", "确认"), ("确认", "居住登记成功"),
    ):  # fmt: skip
        await chat.text(answer, expect)
    if r.kind == "applicant":
        await chat.click("ELIGIBILITY", "符合")
        await chat.text("申领", "数码照片图像号")
        for answer, expect in (("4403A12B34C56D", "电话"), ("1", "居住登记"), ("1", "区名"), ("南山", "受理点")):
            await chat.text(answer, expect)
        await chat.text("1", "确认")
        reply = await chat.text("确认", "申领已受理")
        match = APPLICATION_NUMBER.search(reply)
        assert match and is_application_number(match[1]), "no application number in the reply"
        r.push_due = await run.operator_verifies(match[1])
    else:
        await chat.click("ELIGIBILITY", "签注")
        if r.kind == "holder":
            await chat.text("签注", "请选择")
            await chat.text("1", "居住地址有变化吗")
            await chat.text("1", "确认")
            await chat.text("确认", "签注成功")
            r.push_due = True
    await chat.click("RECEIPTS", "回执" if r.kind != "reminded" else "还没有受理回执")
    resident.done = True


# -- the run ----------------------------------------------------------------------------------------
@dataclass
class Run:
    seed: int
    think_s: float
    wechat: DevWeChat
    sms: FakeSms
    serves: list[ServeProcess]
    workers: list[WorkerProcess]
    session: aiohttp.ClientSession
    reminded_left: int
    tally: Tally = field(default_factory=Tally)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    operator_answers: Counter[int] = field(default_factory=Counter)
    restarted: asyncio.Event = field(default_factory=asyncio.Event)
    walking: int = 0
    most_walking: int = 0

    def __post_init__(self) -> None:
        self.turns = itertools.cycle(range(len(self.serves)))

    def background(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def reminded_settled(self) -> None:
        """A reminded resident verified, or stopped before: once all are, the workers restart."""
        self.reminded_left -= 1
        if self.reminded_left == 0:
            self.background(self.restart_workers())

    async def restart_workers(self) -> None:
        """A deploy: both workers stopped and started at once; each scans for today's reminders as it starts."""
        await asyncio.gather(*(worker.stop() for worker in self.workers))
        await asyncio.gather(*(worker.start() for worker in self.workers))
        self.restarted.set()

    async def operator_verifies(self, number: str) -> bool:
        """Two operators move the application to 核验中 at the same moment, one through each process."""

        async def patch(serve: ServeProcess) -> int:
            url = f"http://{HOST}:{serve.port}/admin/api/applications/{number}"
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            try:
                async with self.session.patch(url, json={"status": "verifying"}, headers=headers) as response:
                    await response.read()
                    return response.status
            except (aiohttp.ClientError, TimeoutError):
                return 0  # no answer (within the session's 5 s): counted as refused

        answers = await asyncio.gather(*(patch(serve) for serve in self.serves))
        self.operator_answers.update(answers)
        return 200 in answers


def service_env(work: Path, database_url: str, redis_url: str, wechat_url: str, sms_url: str) -> dict[str, str]:
    """What the serve and worker processes share beside bot_env's test account."""
    return dict(
        RB_DATABASE__URL=database_url,
        RB_REDIS__URL=redis_url,
        RB_WECHAT__APP_SECRET=DEV_APP_SECRET,
        RB_WECHAT__API_BASE_URL=wechat_url,
        RB_WECHAT__TEMPLATES__APPLICATION_STATUS=STATUS_TEMPLATE,
        RB_WECHAT__TEMPLATES__ENDORSEMENT_REMINDER=REMINDER_TEMPLATE,
        RB_SMS__PROVIDER="http",
        RB_SMS__HTTP__URL=sms_url,
        RB_SMS__MAX_PER_MINUTE="1000000",  # the service-wide limit is for one city's real traffic, not this
        RB_SECURITY__FIELD_KEY=FIELD_KEY,
        RB_ADMIN__TOKEN=ADMIN_TOKEN,
        RB_REALNAME__PHOTO_DIR=str(work / "photos"),
        RB_RECEIPTS__STORAGE_DIR=str(work / "receipts"),
        RB_REMINDERS__SEND_HOUR="0",  # a scan's reminders are due at once, whatever the hour of the run
        RB_REMINDERS__RATE_PER_SECOND="200",
        RB_LOGGING__LEVEL="WARNING",
    )


async def serve_here(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve a fake on a free loopback port of this process; its runner and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, HOST, port).start()
    return runner, f"http://{HOST}:{port}"


# -- memory --------------------------------------------------------------------------------------
def rss_kb(pid: int) -> int:
    """VmRSS of a process, KB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_tree_kb(root: int) -> int:
    """Proportional set size of a process and its children, KB: PostgreSQL's shared buffers counted once."""
    pids = [root] + [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _parent(int(p.name)) == root
    ]  # fmt: skip
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


@dataclass
class Memory:
    """RSS samples of each process: (minutes since the start, role, pid, KB)."""

    roles: dict[str, Callable[[], tuple[int, int]]]  # role → () → (pid, KB)
    started: float = field(default_factory=time.monotonic)
    samples: list[tuple[float, str, int, int]] = field(default_factory=list)

    def sample(self) -> None:
        at = (time.monotonic() - self.started) / 60
        for role, read in self.roles.items():
            pid, kb = read()
            if kb:
                self.samples.append((at, role, pid, kb))

    async def every(self, seconds: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), seconds)
            except TimeoutError:
                pass
        self.sample()

    def report(self) -> list[str]:
        """Each process's first, last and peak RSS and its slope (least squares, KB/min)."""
        lines = ["process      pid      samples  first MB  last MB  peak MB  slope KB/min"]
        for (role, pid), points in itertools.groupby(
            sorted(self.samples, key=lambda s: (s[1], s[0])), key=lambda s: (s[1], s[2])
        ):
            series = [(at, kb) for at, _, _, kb in points]
            lines.append(
                f"{role:<12} {pid:<8} {len(series):>7}  {series[0][1] / 1024:>8.1f}  {series[-1][1] / 1024:>7.1f}  "
                f"{max(kb for _, kb in series) / 1024:>7.1f}  {slope(series):>12.1f}"
            )
        return lines


def slope(series: list[tuple[float, int]]) -> float:
    """Least-squares slope of KB over minutes; 0 with fewer than two samples."""
    if len(series) < 2 or len({at for at, _ in series}) < 2:
        return 0.0
    return statistics.linear_regression([at for at, _ in series], [kb for _, kb in series]).slope


# -- checks ----------------------------------------------------------------------------------------
@dataclass
class Books:
    """What was lost and what doubled, each with its count."""

    lost: Counter[str] = field(default_factory=Counter)
    doubled: Counter[str] = field(default_factory=Counter)

    def compare(self, what: str, expected: int, found: int) -> None:
        if found < expected:
            self.lost[what] += expected - found
        elif found > expected:
            self.doubled[what] += found - expected


async def audit(run: Run, residents: list[Resident], database_url: str) -> Books:
    books = Books()
    cipher = FieldCipher(FIELD_KEY)
    conn = await asyncpg.connect(database_url)
    try:
        accounts = await conn.fetch(
            "SELECT a.id, a.username, a.verified_id_hash, a.realname_verified_at, b.openid FROM account a "
            "LEFT JOIN binding b ON b.account_id = a.id"
        )
        registrations = Counter(
            r["person"] for r in await conn.fetch("SELECT person FROM residence_registration WHERE source = 'bot'")
        )
        applications = Counter(r["person"] for r in await conn.fetch("SELECT person FROM permit_application"))
        endorsements = Counter(
            r["person"]
            for r in await conn.fetch(
                "SELECT p.person FROM endorsement e JOIN permit p ON p.id = e.permit_id WHERE e.source = 'bot'"
            )
        )
        pushes = await conn.fetch("SELECT id, key, account_id, state, openid, msgid FROM push")
    finally:
        await conn.close()
    account_of = {a["username"]: a for a in accounts}
    books.doubled["accounts no resident explains"] += len(accounts) - len(
        account_of.keys() & {r.username for r in residents}
    )
    openid_of = {a["id"]: a["openid"] for a in accounts}
    push_keys = Counter((row["account_id"], row["key"].split(":")[0]) for row in pushes)  # (account, what about)
    codes = Counter(m["phone"] for m in run.sms.messages)
    expected_push = {"applicant": "status", "holder": "endorsed", "reminded": "remind"}
    for r in residents:
        person = cipher.lookup_hash(r.id_number)
        account = account_of.get(r.username)
        ok = account is not None and account["openid"] == r.openid and account["verified_id_hash"] == person
        books.compare("verified bound accounts", 1, int(ok))
        books.compare("registrations", 1, registrations[person])
        books.compare("applications", int(r.kind == "applicant"), applications[person])
        books.compare("endorsements", int(r.kind == "holder"), endorsements[person])
        if account is not None:
            for kind in ("status", "endorsed", "remind"):
                books.compare(f"{kind} pushes", int(expected_push[r.kind] == kind), push_keys[(account["id"], kind)])
        books.compare("SMS codes", 1, codes[r.phone])
        books.compare("paths walked to the end", 1, int(r.done))
    sent = sum(p["state"] == "sent" and p["msgid"] is not None and p["openid"] == openid_of[p["account_id"]]
               for p in pushes)  # fmt: skip
    books.compare("pushes marked sent to their resident", len(pushes), sent)
    # WeChat's own dedup of a client_msg_id is not counted: what reached the resident twice is.
    delivered = Counter((m.openid, m.payload.get("client_msg_id")) for m in run.wechat.sent if m.kind == "template")
    for row in pushes:
        key = (openid_of[row["account_id"]], f"rb-push-{row['id']}")
        books.compare("template messages delivered", 1, delivered.pop(key, 0))
    books.doubled["template messages no row explains"] += sum(delivered.values())
    books.lost["deliveries unanswered"] += len(run.tally.unanswered)
    books.doubled["repeats given another reply"] += len(run.tally.inconsistent)
    books.lost["operator requests refused"] += sum(n for status, n in run.operator_answers.items() if status != 200)
    return books


async def metrics_total(session: aiohttp.ClientSession, serves: list[ServeProcess], name: str, label: str) -> float:
    """The sum over the serve processes of one counter's sample with this label (Prometheus text)."""
    total = 0.0
    for serve in serves:
        async with session.get(f"http://{HOST}:{serve.port}/metrics") as response:
            text = await response.text()
        for line in text.splitlines():
            if line.startswith(name) and label in line:
                total += float(line.rsplit(" ", 1)[1])
    return total


# -- the whole run --------------------------------------------------------------------------------
async def pushes_settled(database_url: str, expected: int, timeout_s: float) -> bool:
    """Wait until `expected` push rows are written and none is left unsent."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            row = await conn.fetchrow("SELECT count(*) AS n, count(*) FILTER (WHERE state = 'sent') AS sent FROM push")
            if row["n"] >= expected and row["sent"] == row["n"]:
                return True
            await asyncio.sleep(0.5)
        return False
    finally:
        await conn.close()


async def main_run(args: argparse.Namespace, work: Path) -> int:
    count = math.ceil(args.minutes * 60 * args.rate) if args.minutes else args.residents
    residents = [Resident(n, kind) for n, kind in enumerate(kinds(count), start=1)]
    redis = RedisServer(work / "redis")
    postgres = PostgresServer()
    wechat = DevWeChat(APP_ID, DEV_APP_SECRET)
    photo = SAMPLE_PHOTO.read_bytes()
    for r in residents:  # the ID-card photo each resident sends, held by WeChat as uploaded media
        wechat.media[r.photo] = (photo, "image/jpeg")
    sms = FakeSms()
    runners: list[web.AppRunner] = []
    serves: list[ServeProcess] = []
    workers: list[WorkerProcess] = []
    try:
        redis.start()
        postgres.start()
        postgres.create_database("loadtest")
        database_url = postgres.url("loadtest")
        for fake in (wechat, sms):
            runner, fake.url = await serve_here(fake.make_app())
            runners.append(runner)
        env = service_env(work, database_url, redis.url, wechat.url, sms.url + SMS_PATH)
        setup = bot_env(work, **env)
        steps = [("initdb", ())] + [(f"import {what}", ("import", what, str(path)))
                                    for what, path in write_imports(residents, work, Rules())]  # fmt: skip
        for what, cli in steps:
            result = run_cli(setup, *(cli or (what,)))
            if result.returncode != 0:
                raise SystemExit(f"{what} failed:\n{result.stdout}{result.stderr}")
        serves = [ServeProcess(work, **env) for _ in range(2)]
        for serve in serves:
            serve.start()
        workers = [WorkerProcess(work, setup) for _ in range(2)]
        await asyncio.gather(*(w.start() for w in workers))
        memory = Memory(process_roles(serves, workers, redis, postgres))
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=WECHAT_WAIT_S)
        ) as session:
            run = Run(args.seed, args.think_s, wechat, sms, serves, workers, session,
                      reminded_left=sum(r.kind == "reminded" for r in residents))  # fmt: skip
            load = os.getloadavg()[0]
            stop_sampling = asyncio.Event()
            sampler = asyncio.create_task(memory.every(args.sample_s, stop_sampling))
            spacing = 1 / args.rate if args.minutes else args.ramp_s / count
            run.tally.started = time.monotonic()
            await asyncio.gather(*(walk_from(run, r, (r.n - 1) * spacing) for r in residents))
            run.tally.finished = time.monotonic()
            while run.tasks:  # the repeats still to come, the workers' restart
                await asyncio.gather(*list(run.tasks))
            settled = await pushes_settled(database_url, sum(r.push_due for r in residents), PUSHES_WAIT_S)
            duplicates = await metrics_total(session, serves, "rb_replies_total", 'kind="duplicate"')
            stop_sampling.set()
            await sampler
        for worker in workers:
            await worker.stop()
        for serve in serves:
            serve.stop()
        books = await audit(run, residents, database_url)
    finally:
        for worker in workers:
            worker.kill()
        for serve in serves:
            serve.kill()
        for runner in runners:
            await runner.cleanup()
        redis.stop()
        postgres.stop()
        postgres.remove()
    return report(
        run, residents, books, memory, duplicates, settled, load, soak=bool(args.minutes), transcripts=args.transcripts
    )


async def walk_from(run: Run, resident: Resident, delay: float) -> None:
    """The resident arrives after `delay` and walks; an unexpected reply stops the path (the audit counts it)."""
    await asyncio.sleep(delay)
    run.walking += 1
    run.most_walking = max(run.most_walking, run.walking)
    try:
        await walk(run, resident)
    except Exception as exc:  # one resident's stop must not end the run: the audit counts it
        resident.failure = f"{type(exc).__name__}: {exc}"
        if resident.kind == "reminded" and not resident.verified:
            run.reminded_settled()
    finally:
        run.walking -= 1


def process_roles(
    serves: list[ServeProcess], workers: list[WorkerProcess], redis: RedisServer, postgres: PostgresServer
) -> dict[str, Callable[[], tuple[int, int]]]:
    """How to read each process's memory: the serve and worker processes by their current pid (a
    restarted worker is a new one), redis-server by the pid it reports, PostgreSQL as a whole."""
    redis_pid = int(Redis.from_url(redis.url).info("server")["process_id"])
    postgres_pid = int((postgres.data / "postmaster.pid").read_text().split()[0])
    roles: dict[str, Callable[[], tuple[int, int]]] = {}
    for name, process in [("serve a", serves[0]), ("serve b", serves[1]), ("worker a", workers[0]),
                          ("worker b", workers[1])]:  # fmt: skip
        roles[name] = lambda p=process: (p.proc.pid, rss_kb(p.proc.pid)) if p.proc else (0, 0)
    roles["redis"] = lambda: (redis_pid, rss_kb(redis_pid))
    roles["postgres"] = lambda: (postgres_pid, pss_tree_kb(postgres_pid))
    return roles


def report(run: Run, residents: list[Resident], books: Books, memory: Memory, duplicates: float, settled: bool,
           load: float, *, soak: bool, transcripts: bool) -> int:  # fmt: skip
    tally = run.tally
    walked = tally.finished - tally.started
    latencies = sorted(tally.latencies)
    of_kind = Counter(r.kind for r in residents)
    print(f"{len(residents)} residents ({of_kind['applicant']} applicants, {of_kind['holder']} holders, "
          f"{of_kind['reminded']} reminded), 2 serve, 2 workers, {os.cpu_count()} CPUs, "
          f"load {load:.1f} at the start")  # fmt: skip
    messages = tally.deliveries - tally.retries
    print(f"walked in {walked:.1f} s: {messages:,} messages, {tally.deliveries:,} deliveries; "
          f"{tally.deliveries / walked:.1f} deliveries/s, {messages / walked:.1f} messages/s, "
          f"{len(residents) / walked * 60:.1f} paths/min")  # fmt: skip
    if latencies:
        p50, p99 = statistics.median(latencies), latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"latency of a delivery: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms")  # fmt: skip
    print(f"at most {run.most_walking} residents walking at once")
    print(f"retries sent {tally.retries:,}; answered as repeats by the bot {duplicates:,.0f}; late replies "
          f"(customer-service message) {tally.late}; sent again after a busy reply {tally.resent}")  # fmt: skip
    print(
        f"operator requests: {dict(run.operator_answers)}; pushes {'all sent' if settled else 'NOT all sent in time'}"
    )
    templates = sum(m.kind == "template" for m in run.wechat.sent)
    print(f"template messages delivered {templates:,}, requests {len(run.wechat.calls_to(TEMPLATE_PATH)):,} "
          "(a repeat of a client_msg_id is dropped by WeChat)")  # fmt: skip
    if soak:
        print("\n".join(memory.report()))
    for label, counts in (("LOST", books.lost), ("DOUBLED", books.doubled)):
        for what, n in sorted(counts.items()):
            if n:
                print(f"{label} {n} {what}")
    for line in tally.unanswered[:5] + tally.inconsistent[:5]:
        print("  " + line)
    if transcripts:
        for kind in ("applicant", "holder", "reminded"):
            shown = next(r for r in residents if r.kind == kind)
            print(f"-- {shown.openid} ({kind})\n" + "\n".join(shown.transcript))
    for r in [r for r in residents if r.failure][:5]:
        print(f"  {r.openid} ({r.kind}) stopped: {r.failure}; last: " + " | ".join(t[:80] for t in r.transcript[-4:]))
    lost, doubled = sum(books.lost.values()), sum(books.doubled.values())
    print(f"{len(residents)} residents, {tally.deliveries} deliveries, {lost} lost, {doubled} doubled")
    return 0 if settled and not (lost or doubled) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=500, help="residents at once (load test)")
    parser.add_argument("--ramp-s", type=float, default=120.0, help="they arrive evenly over this many seconds")
    parser.add_argument("--think-s", type=float, default=2.0, help="mean pause between a resident's messages")
    parser.add_argument("--minutes", type=float, default=0.0, help="soak: residents arrive for this long")
    parser.add_argument("--rate", type=float, default=1.0, help="soak: residents arriving a second")
    parser.add_argument("--sample-s", type=float, default=60.0, help="seconds between RSS samples")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--transcripts", action="store_true", help="print the chat of one resident of each kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rb-loadtest-") as work:
        os.chmod(work, 0o755)  # PostgreSQL's own directory is elsewhere; the photos and receipts are here
        return asyncio.run(main_run(args, Path(work)))


if __name__ == "__main__":
    sys.exit(main())
