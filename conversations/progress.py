"""进度 (PROGRESS): what the resident has declared and applied for, with numbers and dates.
No questions."""

from __future__ import annotations

from bot import residence
from bot.accounts import bound_account
from conversations.flow import Answers, Context, Finished, Flow
from conversations.requirements import bound
from handlers.keys import MenuKey
from models import AccountKind

SHOWN = 8  # a reply has room for about this many (WeChat cuts text at 2048 bytes)


async def _show(ctx: Context, answers: Answers) -> Finished:
    account = await bound_account(ctx.openid)
    if account is None or account.kind is not AccountKind.PERSONAL or account.id_number_hash is None:
        return Finished("单位账号的办理进度请在代办业务中查看。回复「菜单」查看可办理的业务。")
    rows = await residence.registrations(account.id_number_hash)
    if not rows:
        return Finished("您还没有居住登记记录。回复「居住登记」申报居住登记。")
    lines = ["您的居住登记（最近的在前）："]
    for i, r in enumerate(reversed(rows[-SHOWN:]), 1):
        status = f"已于{r.move_out_on.isoformat()}搬离" if r.move_out_on else "有效"
        where = f"{r.district}{r.address}" if r.district and not r.address.startswith(r.district) else r.address
        lines.append(
            f"{i}. {r.number}｜{status}\n   {where}\n   入住{r.move_in_on.isoformat()}，申报{r.declared_on.isoformat()}"
        )
    if len(rows) > SHOWN:
        lines.append(f"另有{len(rows) - SHOWN}条较早的登记，可到受理点查询。")
    lines.append("\n回复「办证资格」查询能否申领居住证。")
    return Finished("\n".join(lines))


FLOW = Flow(key=MenuKey.PROGRESS, title="办理进度", review=False, steps=(), requires=(bound,), submit=_show)
