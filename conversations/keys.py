"""Every flow's keyword and custom-menu EventKey (SPEC §4), in one enum: a typo fails at import."""

from __future__ import annotations

from enum import Enum


class MenuKey(Enum):
    """Value: (keyword a resident types, short description for the menu[, the custom-menu button's
    name when it is not the keyword])."""

    ACCOUNT_REGISTER = ("注册", "注册个人账号")
    ACCOUNT_LOGIN = ("登录", "绑定个人或单位账号")
    ACCOUNT_LOGOUT = ("退出", "解除账号与本微信的绑定", "解除绑定")
    REALNAME = ("实名认证", "完成实名认证")
    RESIDENCE_REGISTER = ("居住登记", "申报居住登记")
    ELIGIBILITY = ("办证资格", "查询能否申领居住证")
    PERMIT_APPLY = ("申领", "申领居住证")
    ENDORSE = ("签注", "办理居住证签注")
    UNIT_APPLY = ("代办", "单位代办居住证")
    UNIT_ENDORSE = ("单位签注", "单位办理签注")
    RECEIPTS = ("回执", "查看受理回执")
    PROGRESS = ("进度", "查询办理进度")
    ACCEPTANCE_POINTS = ("受理点", "查询附近的受理点")
    REMINDERS = ("提醒", "开启或关闭签注提醒")
    FORGOT_USERNAME = ("忘记用户名", "用身份证号码找回用户名")
    FORGOT_PASSWORD = ("忘记密码", "用身份证号码重设密码")
    CHANGE_PHONE = ("换手机号", "更换账号登记的手机号码")
    CORRECT_DETAILS = ("修改资料", "实名认证前改正姓名或户籍地址")

    @property
    def keyword(self) -> str:
        return self.value[0]

    @property
    def summary(self) -> str:
        return self.value[1]

    @property
    def button(self) -> str:
        return self.value[2] if len(self.value) > 2 else self.keyword

    @property
    def event_key(self) -> str:
        return self.name

    @classmethod
    def from_event_key(cls, key: str) -> MenuKey | None:
        return cls.__members__.get(key.strip())

    @classmethod
    def from_keyword(cls, text: str) -> MenuKey | None:
        return _BY_KEYWORD.get(text.strip())


_BY_KEYWORD = {key.keyword: key for key in MenuKey} | {key.button: key for key in MenuKey}


class Command(Enum):
    """Global commands, valid in any state."""

    MENU = ("菜单", "menu")
    HELP = ("帮助", "help", "?", "？")  # the menu, with the common questions listed below it
    CANCEL = ("取消", "退出办理")
    BACK = ("返回", "上一步")

    @classmethod
    def parse(cls, text: str) -> Command | None:
        return _BY_WORD.get(text.strip().lower())


_BY_WORD = {word: command for command in Command for word in command.value}

# Inside a form 退出 means leaving the form, like 取消; at the top level it is the 退出 flow (unbinding).
LEAVE_FORM = frozenset({"退出"})
# What people type to say yes to a review, besides 确认.
CONFIRM_WORDS = frozenset(
    {"确认", "确定", "是", "是的", "对", "对的", "好", "好的", "可以", "提交", "确认提交", "没问题"}
)
