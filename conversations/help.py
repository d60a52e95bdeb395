"""帮助: short answers to what residents ask besides the services themselves — what to bring, the
photo, fees, time limits (domain/RULES.md section 3 and 4), the hotline and how to reach a person.

Like conversations/phrases.py this is data: each topic has its keyword (shown by 帮助), the
everyday words that ask for it inside a longer message ("签注要带什么"), and its answer, which may
differ by the service the message names. The hotline and its hours are the operator's settings
(`help.hotline`, `help.hours`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conversations.keys import MenuKey

PHOTO = (
    "数码照片图像号：到照相馆、自助拍照机或「数码照片回执」小程序拍证件照，"
    "拿到的回执上印着图像号（10到30位字母和数字）。广东省居民身份证数字相片采集回执上的号码也可以用。"
)
MATERIALS = {
    MenuKey.PERMIT_APPLY: (
        "申领居住证要准备：\n1. 本人身份证\n2. 数码照片图像号（回复「照片」看怎么拿到）\n"
        "在微信里申领，不用交材料；制好后本人带身份证到所选受理点领证。"
    ),
    MenuKey.ENDORSE: (
        "签注不用交材料：过去1年里居住登记和社保各满8个月，回复「签注」当场办理。到受理点办理请带居住证和身份证。"
    ),
    MenuKey.RESIDENCE_REGISTER: (
        "居住登记要准备：住址（写到楼栋和房号）、入住日期、工作单位或学校名称、紧急联系人手机号；"
        "门牌上的房屋编码有就填，没有可以不填。"
    ),
    MenuKey.UNIT_APPLY: ("单位代办要准备：单位账号（到单位所在地的受理点开通），和每位员工或学生的姓名、身份证号码。"),
}
MATERIALS_ANY = (
    "要准备的材料：\n申领：身份证、数码照片图像号\n签注：不用交材料\n居住登记：住址、入住日期\n"
    "问具体哪一项，可以直接说，如「签注要带什么」。"
)
FEES = "收费：首次申领居住证免费；签注免费；补领或换领20元。"
TIME_LIMITS = {
    MenuKey.PERMIT_APPLY: "申领：受理后最多15个工作日制好居住证，制好后短信通知领取。",
    MenuKey.ENDORSE: "签注：符合条件当场办好；需要各部门核查的，最多3个工作日。",
    MenuKey.RESIDENCE_REGISTER: "居住登记：搬入或搬离后7天内申报（出租屋由房东、宿舍由单位申报）。",
}
TIME_LIMITS_ANY = (
    "办理时间：\n申领：受理后最多15个工作日\n签注：符合条件当场办好，核查最多3个工作日\n"
    "补领、换领：10个工作日\n居住登记：搬入或搬离后7天内申报"
)
HOTLINE = "咨询电话：{hotline}（{hours}）。"
PERSON = (
    "找人工：拨打{hotline}（{hours}），或带身份证到受理点窗口咨询（回复「受理点」查地址）。"
    "在这里留言，我们不能转给工作人员。"
)


@dataclass(frozen=True, slots=True)
class Topic:
    keyword: str  # what 帮助 lists, and a message of just this word asks for it
    words: tuple[str, ...]  # everyday words that ask for it inside a longer message
    answer: str  # may name {hotline} and {hours}
    by_service: dict[MenuKey, str] = field(default_factory=dict)  # a closer answer when a service is named


TOPICS = (
    Topic(
        "材料",
        ("带什么", "要什么材料", "需要什么", "准备什么", "要带", "什么材料", "哪些材料"),
        MATERIALS_ANY,
        MATERIALS,
    ),
    Topic("照片", ("图像号", "相片", "证件照", "拍照", "回执号"), PHOTO),
    Topic("费用", ("多少钱", "收费", "要钱", "收钱", "免费", "费用多少", "交钱"), FEES),
    Topic("时限", ("多久", "几天", "多长时间", "多少天", "什么时候能拿", "几个工作日"), TIME_LIMITS_ANY, TIME_LIMITS),
    Topic("热线", ("电话", "咨询电话", "热线电话", "打电话"), HOTLINE),
    Topic("人工", ("人工客服", "客服", "转人工", "真人", "工作人员"), PERSON),
)
# 帮助's list of topics, added below the menu.
INDEX = "常见问题请回复：" + "、".join(f"「{t.keyword}」" for t in TOPICS) + "。"


@dataclass(frozen=True, slots=True)
class Help:
    hotline: str
    hours: str

    def answer(self, text: str, services: tuple[MenuKey, ...] = ()) -> str | None:
        """The answer to a question `text` asks, or None when it asks none of the topics; `services`
        are those the message names (phrases.understand), for the closer answer."""
        stripped = text.strip()
        for topic in TOPICS:
            if stripped == topic.keyword or any(word in stripped for word in topic.words):
                closer = next((topic.by_service[key] for key in services if key in topic.by_service), None)
                return (closer or topic.answer).format(hotline=self.hotline, hours=self.hours)
        return None
