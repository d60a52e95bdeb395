"""Replies the router gives itself (greeting, message kinds it does not take)."""

GREETING = "欢迎关注居住证助手！在这里可以办理居住登记、居住证申领和签注，查询受理点和办理进度。"
VOICE_UNRECOGNISED = "抱歉，没能识别这条语音，请发送文字。回复「菜单」查看可办理的事项。"
UNSUPPORTED = "抱歉，暂时只能处理文字、位置和图片消息。回复「菜单」查看可办理的事项。"
