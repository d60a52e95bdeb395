"""Account operations: registration, binding to a WeChat user (password login: bot/services/logins.py).

Binding rules: an account is bound to one WeChat user at a time and a WeChat user to one
account; a new binding ends the old ones. A WeChat user that proved the account's phone by SMS
once is trusted for that account afterwards.

ID numbers: registering one claims it, and any number of unverified accounts may claim the same
one; real-name verification makes the account its holder, once, for one account (the unique
`verified_id_hash`, models/account.py). A number with a holder cannot be registered again.

Recovery (conversations/recovery.py, change_phone.py, correct_details.py): a forgotten password is
reset once the account's phone took a code, which ends any lockout; a changed phone is recorded
once the account passed real-name verification again and the new number took a code; the name and
hukou address are corrected only before real-name verification (after it they are the ID card's).
"""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.config import AccountsConfig
from bot.services.errors import Told
from bot.services.security import ProtectedId
from models import Account, AccountKind, Binding, TrustedWeChatUser


class AccountError(Told):
    """Registration or login refused, with what to do."""


ID_NUMBER_HELD = (
    "这个身份证号码已经注册过账号并完成了实名认证，不能再注册。请回复「登录」登录；忘记了用户名或密码，"
    "请回复「忘记用户名」或「忘记密码」；那不是您本人的账号，请带身份证到受理点办理（回复「受理点」查询地址）。"
    "号码填错了请回复「修改 序号」改正。"
)


class Accounts:
    def __init__(self, config: AccountsConfig) -> None:
        self._config = config

    async def bound_account(self, openid: str) -> Account | None:
        binding = await Binding.get_or_none(openid=openid).select_related("account")
        return binding.account if binding else None

    async def id_number_held(self, lookup_hash: str) -> bool:
        """Whether an account was verified with this ID number (and so owns it)."""
        return await Account.filter(verified_id_hash=lookup_hash).exists()

    async def claim_lost(self, account: Account) -> bool:
        """Whether another account was verified with this unverified account's ID number: then this
        one can never be verified with it (the holder's `verified_id_hash` is never cleared)."""
        if account.verified_id_hash is not None or account.id_number_hash is None:
            return False
        return await Account.filter(verified_id_hash=account.id_number_hash).exclude(id=account.id).exists()

    async def account(self, account_id: int) -> Account:
        return await Account.get(id=account_id)

    async def recoverable(self, lookup_hash: str) -> Account | None:
        """The personal account a forgotten username or password is recovered for by this ID number:
        the one verified with it; with none, the first registered with it, so that a later claim
        (anyone may type anyone's number) cannot take an earlier account's recovery to its phone."""
        held = await Account.get_or_none(verified_id_hash=lookup_hash)
        if held is not None:
            return held
        return await Account.filter(kind=AccountKind.PERSONAL, id_number_hash=lookup_hash).order_by("id").first()

    async def reset_password(self, account_id: int, password_hash: str, *, openid: str) -> str | None:
        """Set the new password and end any lockout, its count of wrong passwords too; this WeChat
        user, whose code to the account's phone allowed it, is trusted (no second code at 登录).
        Returns the WeChat user the account is bound to, if any, to be told."""
        async with in_transaction():
            await Account.filter(id=account_id).update(
                password_hash=password_hash, must_change_password=False, failed_logins=0, locked_until=None
            )
            await TrustedWeChatUser.get_or_create(account_id=account_id, openid=openid)
        binding = await Binding.get_or_none(account_id=account_id)
        return binding.openid if binding else None

    async def change_phone(self, account_id: int, phone: str, *, openid: str) -> None:
        """Record the new number, which this WeChat user proved: it stays trusted, and the others,
        which proved only the old number, need a code to the new one at their next 登录."""
        async with in_transaction():
            await Account.filter(id=account_id).update(phone=phone)
            await TrustedWeChatUser.filter(account_id=account_id).exclude(openid=openid).delete()
            await TrustedWeChatUser.get_or_create(account_id=account_id, openid=openid)

    async def correct_details(self, account_id: int, *, name: str | None, hukou_address: str | None) -> bool:
        """Correct the name or the hukou address (None: unchanged) of an account not yet verified;
        False once it is: then they are the ID card's, and only an acceptance point changes them."""
        changes = {field: value for field, value in (("name", name), ("hukou_address", hukou_address)) if value}
        unverified = Account.filter(id=account_id, realname_verified_at__isnull=True, verified_id_hash__isnull=True)
        return bool(await unverified.update(**changes))

    async def username_taken(self, username: str) -> bool:
        return await Account.filter(username__iexact=username).exists()

    async def register_personal(
        self,
        *,
        openid: str,
        name: str,
        id_number: ProtectedId,
        hukou_address: str,
        phone: str,
        username: str,
        password_hash: str,
    ) -> Account:
        """Create the account and bind it to this WeChat user, whose phone the SMS code proved.

        An ID number that an unverified account claims may be registered again (a claim proves
        nothing); one that a verified account holds is refused, in the same words whoever holds
        it, and only here, after the SMS code: the ID number question tells a stranger nothing."""
        try:
            async with in_transaction():
                if await self.id_number_held(id_number.lookup_hash):
                    raise AccountError(ID_NUMBER_HELD)
                if await self.username_taken(username):
                    raise AccountError(f"用户名{username}刚刚被别人注册了，请回复「修改 序号」换一个用户名。")
                account = await Account.create(
                    kind=AccountKind.PERSONAL,
                    username=username,
                    password_hash=password_hash,
                    phone=phone,
                    name=name,
                    id_number_enc=id_number.encrypted,
                    id_number_hash=id_number.lookup_hash,
                    id_number_masked=id_number.masked,
                    hukou_address=hukou_address,
                )
                await _bind(account, openid)
        except IntegrityError:  # the same username, registered at the same moment
            raise AccountError(f"用户名{username}刚刚被别人注册了，请回复「修改 序号」换一个用户名。") from None
        return account

    async def bind(self, account_id: int, openid: str, *, new_password_hash: str | None = None) -> str | None:
        """Bind the account to this WeChat user; returns the OpenID it was bound to before, if another."""
        async with in_transaction():
            account = await Account.get(id=account_id)
            if new_password_hash:
                account.password_hash = new_password_hash
                account.must_change_password = False
                await account.save(update_fields=["password_hash", "must_change_password"])
            return await _bind(account, openid)

    async def unbind(self, openid: str) -> Account | None:
        binding = await Binding.get_or_none(openid=openid).select_related("account")
        if binding is None:
            return None
        await binding.delete()
        return binding.account

    async def record_realname(self, account_id: int, *, method: str, photo: str, now: datetime) -> bool:
        """Record the passed verification and make the account its ID number's holder. False when
        another account holds the number already: of two verifications racing, the unique
        `verified_id_hash` lets one through."""
        account = await Account.get(id=account_id)
        if account.id_number_hash is None:
            return False
        try:
            await Account.filter(id=account_id).update(
                realname_verified_at=now,
                realname_method=method,
                realname_photo=photo,
                verified_id_hash=account.id_number_hash,
            )
        except IntegrityError:
            return False
        return True


async def _bind(account: Account, openid: str) -> str | None:
    previous = await Binding.get_or_none(account_id=account.id)
    await Binding.filter(account_id=account.id).delete()
    await Binding.filter(openid=openid).delete()
    await Binding.create(account=account, openid=openid)
    await TrustedWeChatUser.get_or_create(account=account, openid=openid)
    return previous.openid if previous and previous.openid != openid else None
