"""Answer parsers: raw answer text in, a JSON-safe value out, or `Invalid` with the reason.

Every parser first applies NFKC, so full-width digits, letters and spaces typed on a Chinese
keyboard read as their ASCII forms. Messages say what is wrong and how to fix it; the engine
repeats the question after them, so they never repeat it. Nothing here reads a clock: a parser
that depends on the date takes it as a keyword argument.
"""

import calendar
import functools
import re
from datetime import date, timedelta

from stdnum import numdb
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidComponent

from bot.services.errors import Told
from bot.text import normalise
from models.districts import DISTRICTS, districts_in, find_district


class Invalid(Told, ValueError):
    """The answer cannot be accepted; the message tells the resident why."""


def _compact(text: str) -> str:
    """Normalised, with the spaces and dashes people type inside long numbers removed."""
    return re.sub(r"[\s-]", "", normalise(text))


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@functools.lru_cache(maxsize=4096)  # a few thousand county codes exist; the table lookup is slow
def _region_known(code: str) -> bool:
    # Not ric.validate's region check: it wants the code to exist in the birth year, but the code
    # is where the number was first issued, often years later (宝安区 440306 dates from 1992 and
    # is on many IDs of people born before), and it raises KeyError on unlisted codes such as
    # 440399. So: any code in stdnum's GB/T 2260 table, current or retired; the check digit
    # still catches typos.
    parts = numdb.get("cn/loc").info(code)
    return any("county" in props for _part, props in parts)


def resident_id(text: str, *, today: date) -> str:
    """An 18-character resident ID number (GB 11643-1999), upper-case X.

    `today` is the resident's local date; a birth date after it is refused.
    """
    number = _compact(text).upper()
    if not re.fullmatch(r"[0-9X]*", number):
        raise Invalid("身份证号码只能包含数字，末位可以是X，请核对后重新输入。")
    if len(number) == 15:
        raise Invalid("这是15位旧身份证号码，请输入18位新号码。")
    if len(number) != 18:
        raise Invalid(f"身份证号码应为18位，您输入了{len(number)}位，请核对后重新输入。")
    if "X" in number[:17]:
        raise Invalid("身份证号码只有末位可以是X，前17位都是数字，请核对后重新输入。")
    try:
        born = ric.get_birth_date(number)
    except InvalidComponent:
        raise Invalid(f"身份证号码第7至14位是出生日期，{number[6:14]}不是有效日期，请核对后重新输入。") from None
    if born > today:
        raise Invalid(f"身份证号码中的出生日期{_cn_date(born)}晚于今天，请核对后重新输入。")
    if not _region_known(number[:6]):
        raise Invalid(f"身份证号码前6位地区码{number[:6]}不存在，请核对后重新输入。")
    if ric.calc_check_digit(number) != number[17]:
        raise Invalid("身份证号码校验位不对，请核对后重新输入18位号码，末位可以是X。")
    return number


def cn_mobile(text: str) -> str:
    """A mainland mobile number, returned as its 11 digits."""
    number = re.sub(r"^(?:\+86|0086)", "", _compact(text))
    if len(number) == 13 and number.startswith("86"):
        number = number[2:]
    if not re.fullmatch(r"[0-9]*", number):
        raise Invalid("手机号码只能包含数字，请重新输入11位手机号码。")
    if number.startswith("0"):
        raise Invalid("这像是固定电话号码，请输入11位手机号码。")
    if len(number) != 11:
        raise Invalid(f"手机号码应为11位，您输入了{len(number)}位，请核对后重新输入。")
    if not re.fullmatch(r"1[3-9][0-9]{9}", number):
        raise Invalid("手机号码应以13至19开头，请核对后重新输入。")
    return number


_DATE_PATTERNS = (
    re.compile(r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"),
    re.compile(r"(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})[日号]?"),
)


# Days back from today, for the words people use instead of a date.
_DAYS_AGO = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}


def flexible_date(
    text: str, *, today: date | None = None, not_before: date | None = None, not_after: date | None = None
) -> str:
    """A date as ISO `YYYY-MM-DD` from 2025-03-01, 2025/3/1, 2025.3.1 or 2025年3月1日, and, given
    `today` (the resident's date), from 今天, 昨天 or 前天.

    `not_before`/`not_after` bound it inclusively, whichever way it was written; for "not in the
    future" pass today.
    """
    words = "".join(normalise(text).split())
    if today is not None and words in _DAYS_AGO:
        answer = today - timedelta(days=_DAYS_AGO[words])
    else:
        answer = _written_date(words, words_too=today is not None)
    if not_before is not None and answer < not_before:
        raise Invalid(f"日期不能早于{_cn_date(not_before)}，请核对后重新输入。")
    if not_after is not None and answer > not_after:
        raise Invalid(f"日期不能晚于{_cn_date(not_after)}，请核对后重新输入。")
    return answer.isoformat()


def _written_date(words: str, *, words_too: bool) -> date:
    match = next((m for p in _DATE_PATTERNS if (m := p.fullmatch(words))), None)
    if match is None:
        also = "，也可以回复「今天」或「昨天」" if words_too else ""
        raise Invalid(f"日期格式不对，请按 2025-03-01 或 2025年3月1日 的格式输入{also}。")
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    if year < 1900:
        raise Invalid(f"年份{year}不对，请核对后重新输入。")
    if not 1 <= month <= 12:
        raise Invalid(f"月份{month}不对，月份应为1到12，请核对后重新输入。")
    days_in_month = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days_in_month:
        raise Invalid(f"{year}年{month}月没有{day}日（这个月只有{days_in_month}天），请核对后重新输入。")
    return date(year, month, day)


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(text: str) -> str:
    """A 统一社会信用代码 (GB 32100-2015), upper-case."""
    code = _compact(text).upper()
    if len(code) != 18:
        raise Invalid(f"统一社会信用代码应为18位，您输入了{len(code)}位，请对照营业执照重新输入。")
    # stdnum.cn.uscc wants digits in the first 8 places, but GB 32100 also gives registering
    # authorities the letters A, N and Y (N: rural collectives), so only places 3-8 must be digits.
    if not (all(c in _USCC_ALPHABET for c in code) and code[2:8].isdigit()):
        raise Invalid(
            "统一社会信用代码由数字和大写字母组成（没有I、O、Z、S、V），第3至8位是数字，请对照营业执照重新输入。"
        )
    if stdnum_uscc.calc_check_digit(code) != code[17]:
        raise Invalid("统一社会信用代码校验位不对，请对照营业执照核对后重新输入。")
    return code


def photo_number(text: str) -> str:
    """A 数码照片图像号: 10 to 30 letters and digits, upper-case, the spaces and dashes people copy
    with it dropped. Its exact format is not published (RULES.md §3), so only its shape is checked."""
    number = _compact(text).upper()
    if not re.fullmatch(r"[0-9A-Z]{10,30}", number):
        raise Invalid(
            "数码照片图像号是10到30位字母和数字，印在照相馆或自助照相机给的数码照片回执上，"
            "也可以在微信「数码照片回执」小程序里查看；请核对后重新输入。"
        )
    return number


def non_empty(text: str, *, max_len: int = 100) -> str:
    """Free text, trimmed and with runs of whitespace made one space; 1 to `max_len` characters."""
    answer = " ".join(normalise(text).split())
    if not answer:
        raise Invalid("内容不能为空，请重新输入。")
    if len(answer) > max_len:
        raise Invalid(f"内容太长：最多{max_len}个字，您输入了{len(answer)}个字，请精简后重新输入。")
    return answer


def person_name(text: str) -> str:
    """A person's name as on the ID card: Chinese characters (with · for minority names) or letters."""
    name = (
        "".join(normalise(text).split()) if re.search(r"[\u4e00-\u9fff]", text) else " ".join(normalise(text).split())
    )
    if not name:
        raise Invalid("姓名不能为空，请输入身份证上的姓名。")
    if not re.fullmatch(r"[\u4e00-\u9fff·.]{2,20}|[A-Za-z][A-Za-z .'-]{1,49}", name):
        raise Invalid("姓名应与身份证一致：2到20个汉字（少数民族姓名可用·分隔）或英文字母，请重新输入。")
    return name


# Typed at the username question, these would be read as commands (conversations/keys.py Command).
RESERVED_USERNAMES = frozenset({"menu", "help"})


def username(text: str) -> str:
    """An account's username: 4 to 20 letters, digits or underscores."""
    name = normalise(text)
    if not re.fullmatch(r"[A-Za-z0-9_]{4,20}", name):
        raise Invalid("用户名应为4到20位字母、数字或下划线，不能有空格或汉字，请重新输入。")
    if name.lower() in RESERVED_USERNAMES:
        raise Invalid(f"{name}是聊天里的命令词，不能用作用户名，请换一个。")
    return name


def sms_code(text: str) -> str:
    """A 6-digit SMS verification code."""
    code = _compact(text)
    if not re.fullmatch(r"[0-9]{6}", code):
        raise Invalid("验证码是短信里的6位数字，请重新输入；没有收到请回复「重发」。")
    return code


# The password rule as new_password applies it, for the questions that ask for one.
PASSWORD_RULE = "8到64位，同时包含字母和数字，不能包含用户名"
PASSWORD_RULE_WITH_ID = PASSWORD_RULE + "，也不能包含身份证号码里连续6位数字（如出生日期）"


def new_password(text: str, *, username: str = "", id_number: str = "") -> str:
    """A password to set: 8 to 64 characters with letters and digits, not built from the
    username or the ID number's digits (6 or more in a row, or the birth date)."""
    password = text.strip()
    if len(password) < 8:
        raise Invalid(f"密码至少8位，您输入了{len(password)}位，请重新设置。")
    if len(password) > 64:
        raise Invalid("密码最多64位，请重新设置。")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"[0-9]", password)):
        raise Invalid("密码需要同时包含字母和数字，请重新设置。")
    if username and username.lower() in password.lower():
        raise Invalid("密码不能包含用户名，请重新设置。")
    digits = id_number[:17]
    if digits and any(digits[i : i + 6] in password for i in range(len(digits) - 5)):
        raise Invalid("密码不能包含身份证号码里连续6位数字（如出生日期），请重新设置。")
    return password


_DISTRICT_LIST = "、".join(f"{n} {d.name}" for n, d in enumerate(DISTRICTS, start=1))


def district(text: str) -> str:
    """A Shenzhen district by name, alias or number, or named in an address (深圳市福田区福华路3号);
    returns the canonical name. An address naming two districts is asked about, not guessed."""
    found = find_district(text)
    if found is not None:
        return found.name
    named = districts_in(text)
    if len(named) == 1:
        return named[0].name
    if named:
        names = "和".join(f"「{d.name}」" for d in named)
        raise Invalid(f"您的回复里有{names}，是哪一个区？请只回复区名，如「{named[0].name}」。")
    raise Invalid(f"没有找到这个区。请回复区名或序号：{_DISTRICT_LIST}。")
