"""Passive replies: what a handler returns, and its XML.

wechatpy's reply classes do not split ']]>' inside CDATA, so the few lines of XML are ours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.wechat.crypto import cdata
from bot.wechat.message import Incoming

# Undocumented; community measurements put the text limit at 2048 UTF-8 bytes (PROTOCOL.md §5.2).
MAX_TEXT_BYTES = 2048


@dataclass(frozen=True, slots=True)
class Article:
    title: str
    description: str
    url: str
    pic_url: str = ""


@dataclass(frozen=True, slots=True)
class NewsReply:
    article: Article  # one article: the limit when answering a user's message


Reply = str | NewsReply  # a str is a text reply; "" means no reply


def truncate_utf8(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    ellipsis = "…"
    cut = data[: limit - len(ellipsis.encode())].decode("utf-8", errors="ignore")
    return cut + ellipsis


def render(reply: Reply, to: Incoming, now: int | None = None) -> str:
    """The reply XML, or '' when there is nothing to say (WeChat then does nothing)."""
    if reply == "":
        return ""
    head = (
        f"<xml><ToUserName><![CDATA[{cdata(to.openid)}]]></ToUserName>"
        f"<FromUserName><![CDATA[{cdata(to.to_user)}]]></FromUserName>"
        f"<CreateTime>{now or int(time.time())}</CreateTime>"
    )
    if isinstance(reply, NewsReply):
        a = reply.article
        return (
            f"{head}<MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount><Articles><item>"
            f"<Title><![CDATA[{cdata(a.title)}]]></Title>"
            f"<Description><![CDATA[{cdata(a.description)}]]></Description>"
            f"<PicUrl><![CDATA[{cdata(a.pic_url)}]]></PicUrl>"
            f"<Url><![CDATA[{cdata(a.url)}]]></Url></item></Articles></xml>"
        )
    return (
        f"{head}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{cdata(truncate_utf8(reply))}]]></Content></xml>"
    )


def reply_to_json(reply: Reply) -> dict[str, object]:
    """A reply as JSON, to keep it (a repeated submission is answered with the first reply)."""
    if isinstance(reply, NewsReply):
        a = reply.article
        return {"news": {"title": a.title, "description": a.description, "url": a.url, "pic_url": a.pic_url}}
    return {"text": reply}


def reply_from_json(data: dict[str, object] | None) -> Reply:
    if not data:
        return ""
    news = data.get("news")
    if isinstance(news, dict):
        return NewsReply(Article(**news))
    text = data.get("text")
    return text if isinstance(text, str) else ""
