"""`residence-bot chat`: a terminal resident talking to a running bot over the real callback protocol.

The client plays WeChat's servers: each line typed becomes the push XML WeChat would send, signed
(and encrypted in safe mode) exactly as WeChat does, POSTed to the bot's callback URL; the reply is
decrypted and shown as the resident would read it. `ChatClient` is also the fake resident of the
bot's own HTTP tests.

The rest of WeChat is the development stand-in for its API (`residence-bot dev-wechat`), reached
through `DevWeChatClient`: a photo sent with /image is uploaded to it first, as WeChat's servers would
hold it, and the messages the bot sent the resident through the API are read back from it after
each reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import mimetypes
import re
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import aiohttp
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from bot.config import DEV_APP_SECRET
from bot.dev.wechat_standin import MESSAGES_PATH, TOKEN_PATH, UPLOAD_PATH

DEFAULT_URL = "http://127.0.0.1:8080/wechat"
# WeChat gives up on a callback after 5 seconds (PROTOCOL.md §5.1).
WECHAT_WAIT_S = 5.0
PLACEHOLDER_PIC_URL = "http://mmbiz.qpic.cn/mmbiz_jpg/chat-placeholder/0"
NO_REPLY = "（无回复）"
# Marked as a sample inside too (a JPEG comment): a made-up card, not anybody's ID.
SAMPLE_PHOTO = Path(__file__).resolve().parent / "data" / "id_card_sample.jpg"
# Polled after every reply: the stand-in is on this machine, and a slower answer should not hold up the chat.
POLL_TIMEOUT_S = 1.0

HELP = """\
可以发送：
  任意文字                      文本消息
  /location 纬度,经度 [地名]     位置消息，例如 /location 22.543096,114.057865 福田区
  /click KEY                    点击菜单（CLICK 事件），例如 /click ENDORSE
  /image [文件]                 图片消息：先上传到微信接口替身；不带文件时发送样例身份证照片
  /voice 文字                   语音消息（语音识别结果为该文字）
  /subscribe [场景值]            关注（带场景值即扫带参数二维码关注）
  /unsubscribe                  取消关注
  /help                         显示本列表
  /quit                         退出（Ctrl-D 亦可）
公众号通过接口发来的消息在每次回复之后显示，以「（客服消息）」或「（模板消息）」开头。"""


class ChatError(Exception):
    """A request that did not produce a reply a resident could read; the message is one line."""


Value = str | int | float


def cdata(value: str) -> str:
    # `]]>` would end the section early: close it after `]]` and reopen before `>`.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def push_xml(fields: dict[str, Value]) -> str:
    """Render push fields as WeChat does: numbers bare, every other value in CDATA."""
    parts = []
    for name, value in fields.items():
        if isinstance(value, float):
            text = f"{value:.6f}"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = cdata(value)
        parts.append(f"<{name}>{text}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def _sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _parse_xml(text: str) -> dict[str, Any] | None:
    try:
        root = xmltodict.parse(text).get("xml")
    except Exception:  # expat and xmltodict raise several types; all mean "not push/reply XML"
        return None
    return root if isinstance(root, dict) else None


def _random_token(length: int = 32) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


class ChatClient:
    """One resident (openid) talking to the bot at `url`, as WeChat's servers carry it."""

    def __init__(
        self,
        url: str,
        *,
        openid: str,
        token: str,
        app_id: str = "",
        encoding_aes_key: str = "",
        original_id: str = "gh_test",
        safe: bool = False,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.url = url
        self.openid = openid
        self.token = token
        self.app_id = app_id
        self.original_id = original_id
        self.safe = safe
        self._crypto: WeChatCrypto | None = None
        if encoding_aes_key:
            try:
                self._crypto = WeChatCrypto(token, encoding_aes_key, app_id)
            except (AssertionError, ValueError) as exc:
                raise ValueError("encoding_aes_key must be 43 letters or digits") from exc
        if safe and self._crypto is None:
            raise ValueError("safe mode needs encoding_aes_key")
        self._session = session
        self._owns_session = session is None
        self._last_create_time = 0
        self.last_xml = ""
        self.last_status: int | None = None
        self.last_body = ""

    async def __aenter__(self) -> ChatClient:
        if self._session is None:
            # force_close: a person may sit at the prompt longer than the bot's keep-alive, and a
            # connection the bot closed meanwhile would fail the next message.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True),
                timeout=aiohttp.ClientTimeout(total=WECHAT_WAIT_S),
            )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def push(self, msg_type: str, **fields: Value) -> str:
        """The push XML WeChat would send from this resident now: the header, `fields`, and for a
        message (not an event) a new MsgId. Sending it again with `send_xml` is WeChat's retry."""
        if msg_type != "event":
            fields["MsgId"] = _msg_id()
        return push_xml({**self._header(msg_type), **fields})

    async def send_text(self, text: str) -> str:
        return await self.send_xml(self.push("text", Content=text))

    async def send_location(self, lat: float, lng: float, label: str = "") -> str:
        return await self.send_xml(
            self.push("location", Location_X=float(lat), Location_Y=float(lng), Scale=15, Label=label)
        )

    async def click(self, key: str) -> str:
        return await self.send_xml(self.push("event", Event="CLICK", EventKey=key))

    async def send_image(self, media_id: str | None = None) -> str:
        return await self.send_xml(self.push("image", PicUrl=PLACEHOLDER_PIC_URL, MediaId=media_id or _random_token()))

    async def send_voice(self, recognition: str) -> str:
        return await self.send_xml(self.push("voice", MediaId=_random_token(), Format="amr", Recognition=recognition))

    async def subscribe(self, scene: str | None = None) -> str:
        qr: dict[str, Value] = {"EventKey": f"qrscene_{scene}", "Ticket": _random_token(48)} if scene else {}
        return await self.send_xml(self.push("event", Event="subscribe", **qr))

    async def unsubscribe(self) -> str:
        return await self.send_xml(self.push("event", Event="unsubscribe"))

    async def send_xml(self, xml: str) -> str:
        """POST one plaintext push (encrypted first in safe mode); return the reply as read, '' for none.

        Raises ChatError for an HTTP error status, an unreachable or slow bot, or a reply WeChat
        would refuse; `last_status`/`last_body` keep the raw response when there was one.
        """
        if self._session is None:
            raise RuntimeError("use ChatClient in `async with`")
        parsed = _parse_xml(xml) or {}
        # Kept in step with the body, as WeChat's are; a malformed body (for 400 tests) still goes out.
        openid = parsed.get("FromUserName") or self.openid
        timestamp = str(int(time.time()))
        nonce = str(secrets.randbelow(10**10))
        query = {
            "signature": _sha1_sorted(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": openid,
        }
        body = xml
        if self.safe:
            assert self._crypto is not None
            sealed = _parse_xml(self._crypto.encrypt_message(xml, nonce, timestamp))
            assert sealed is not None
            query["encrypt_type"] = "aes"
            query["msg_signature"] = sealed["MsgSignature"]
            to_user = parsed.get("ToUserName") or self.original_id
            body = push_xml({"ToUserName": to_user, "Encrypt": sealed["Encrypt"]})
        self.last_xml = xml
        self.last_status = None
        self.last_body = ""
        try:
            async with self._session.post(
                self.url,
                params=query,
                data=body.encode(),
                headers={"Content-Type": "text/xml; charset=utf-8"},
            ) as response:
                self.last_status = response.status
                self.last_body = await response.text(encoding="utf-8", errors="replace")
        except TimeoutError as exc:
            raise ChatError(
                "等待回复超时：微信只等 5 秒，之后重试，并对用户显示「该公众号暂时无法提供服务，请稍后再试」"
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise ChatError(f"无法连接 {self.url}：{_one_line(str(exc))}") from exc
        except aiohttp.ClientError as exc:
            raise ChatError(f"请求 {self.url} 失败：{_one_line(str(exc)) or type(exc).__name__}") from exc
        if self.last_status != 200:
            raise ChatError(f"HTTP {self.last_status}: {_one_line(self.last_body) or '(空)'}")
        return self.read_reply(self.last_body)

    def read_reply(self, body: str) -> str:
        """The reply body as the resident reads it: decrypted and rendered; '' for no reply."""
        if body.strip() in ("", "success"):
            return ""
        reply = _parse_xml(body)
        if reply is None:
            raise ChatError(f"回复不是 XML，用户会看到「该公众号暂时无法提供服务」：{_one_line(body)}")
        if "Encrypt" in reply:
            reply = _parse_xml(self._decrypt(reply))
            if reply is None:
                raise ChatError("解密后的回复不是 XML")
        elif self.safe:
            raise ChatError(f"安全模式下回复未加密，微信会拒收：{_one_line(body)}")
        return render_reply(reply)

    def _decrypt(self, reply: dict[str, Any]) -> str:
        if self._crypto is None:
            raise ChatError("回复是加密的，但没有配置 encoding_aes_key")
        missing = [k for k in ("MsgSignature", "TimeStamp", "Nonce") if not reply.get(k)]
        if missing:
            raise ChatError(f"加密回复缺少 {', '.join(missing)}")
        try:
            return self._crypto.decrypt_message(reply, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
        except InvalidSignatureException as exc:
            raise ChatError("加密回复的 MsgSignature 不对") from exc
        except InvalidAppIdException as exc:
            raise ChatError("加密回复的 AppID 不是本公众号的") from exc
        except Exception as exc:  # bad base64, key, padding or length all mean one thing here
            raise ChatError(f"加密回复无法解密：{type(exc).__name__}") from exc

    def _header(self, msg_type: str) -> dict[str, Value]:
        # Strictly increasing: the bot deduplicates events by openid + CreateTime + Event, so two
        # events replayed within one second would otherwise look like a WeChat retry.
        self._last_create_time = max(int(time.time()), self._last_create_time + 1)
        return {
            "ToUserName": self.original_id,
            "FromUserName": self.openid,
            "CreateTime": self._last_create_time,
            "MsgType": msg_type,
        }


class DevWeChatClient:
    """The chat's line to the development stand-in for WeChat's API, for one resident (openid).

    Uploads go through WeChat's own temporary-media upload, access_token and all, so the stand-in
    stays faithful to WeChat; the chat gets the token with the stand-in's development AppSecret.
    """

    def __init__(self, url: str, *, openid: str, app_id: str, app_secret: str = DEV_APP_SECRET) -> None:
        self.url = url.rstrip("/")
        self.openid = openid
        self._app_id = app_id
        self._app_secret = app_secret
        self._session: aiohttp.ClientSession | None = None
        self._seen = 0  # the index of the last message shown
        self._instance: str | None = None  # the stand-in that numbered them

    async def __aenter__(self) -> DevWeChatClient:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WECHAT_WAIT_S))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def upload_image(self, content: bytes, filename: str) -> str:
        """Upload an image as temporary media; return its media_id. ChatError says why not, in one line."""
        form = aiohttp.FormData()
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        form.add_field("media", content, filename=filename, content_type=content_type)
        params = {"access_token": await self._token(), "type": "image"}
        answer = await self._request("POST", UPLOAD_PATH, params=params, data=form)
        return _answer_field(answer, "media_id")

    async def new_messages(self) -> list[dict[str, Any]]:
        """The messages sent to the resident since the last call (since the stand-in started, at first)."""
        answer = await self._messages_after(self._seen)
        if answer.get("instance") != self._instance:
            self._instance = answer.get("instance")
            if self._seen:  # the stand-in was restarted and numbers from 1 again
                self._seen = 0
                answer = await self._messages_after(0)
        messages = [m for m in answer.get("messages") or [] if isinstance(m, dict) and isinstance(m.get("index"), int)]
        if messages:
            self._seen = messages[-1]["index"]
        return messages

    async def _messages_after(self, index: int) -> dict[str, Any]:
        params = {"openid": self.openid, "after": str(index)}
        return await self._request("GET", MESSAGES_PATH, params=params, timeout_s=POLL_TIMEOUT_S)

    async def _token(self) -> str:
        # Asked for each upload: stable_token's normal mode hands out the token the bot already
        # holds, so asking again is cheap and never invalidates the bot's.
        payload = {"grant_type": "client_credential", "appid": self._app_id, "secret": self._app_secret}
        answer = await self._request("POST", TOKEN_PATH, data=json.dumps(payload).encode())
        return _answer_field(answer, "access_token")

    async def _request(
        self, method: str, path: str, *, timeout_s: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        if self._session is None:
            raise RuntimeError("use DevWeChatClient in `async with`")
        timeout = aiohttp.ClientTimeout(total=timeout_s) if timeout_s else None
        try:
            async with self._session.request(method, self.url + path, timeout=timeout, **kwargs) as response:
                status = response.status
                body = await response.read()
        except TimeoutError as exc:
            raise ChatError(f"微信接口替身 {self.url} 没有回应") from exc
        except aiohttp.ClientConnectorError as exc:
            raise ChatError(f"无法连接微信接口替身 {self.url}（`make run` 会启动它，或用 --wechat-api 指定）") from exc
        except aiohttp.ClientError as exc:
            raise ChatError(f"请求微信接口替身失败：{_one_line(str(exc)) or type(exc).__name__}") from exc
        try:
            answer = json.loads(body) if status == 200 else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ChatError(f"{self.url} 不像微信接口替身：HTTP {status}")
        if answer.get("errcode"):
            raise ChatError(f"微信接口替身拒绝了请求：{answer['errcode']} {answer.get('errmsg', '')}".rstrip())
        return answer


def _answer_field(answer: dict[str, Any], name: str) -> str:
    value = answer.get(name)
    if not isinstance(value, str) or not value:
        raise ChatError(f"微信接口替身的回答里没有 {name}")
    return value


def _msg_id() -> int:
    # 19 digits like WeChat's, and below 2**63 so a bot storing it as a signed 64-bit integer copes.
    return (1 << 62) | secrets.randbits(62)


_MEDIA_LABELS = {"image": "图片", "voice": "语音", "video": "视频", "music": "音乐"}


def render_reply(reply: dict[str, Any]) -> str:
    """Plain text of a reply XML (already parsed and decrypted)."""
    msg_type = reply.get("MsgType") or ""
    if msg_type == "text":
        return reply.get("Content") or ""
    if msg_type == "news":
        items = (reply.get("Articles") or {}).get("item") or []
        if isinstance(items, dict):
            items = [items]
        articles = []
        for item in items:
            lines = [item.get(k) for k in ("Title", "Description", "Url")]
            articles.append("\n".join(line for line in lines if line))
        return "\n\n".join(articles)
    if msg_type in _MEDIA_LABELS:
        media = reply.get(msg_type.capitalize()) or {}
        detail = media.get("Title") or media.get("MediaId") or ""
        return f"[{_MEDIA_LABELS[msg_type]}] {detail}".rstrip()
    if msg_type == "transfer_customer_service":
        return "[转接人工客服]"
    return f"[{msg_type or '未知'} 类型的回复]"


_LINK = re.compile(r'<a href="([^"]*)">([^<]*)</a>')


def as_read(text: str) -> str:
    """A text reply as WeChat shows it: a link is its label, here with the address after it."""
    return _LINK.sub(lambda m: f"{m.group(2)}（{m.group(1)}）", text)


def render_sent(message: dict[str, Any]) -> str:
    """A message the bot sent through the API (as /dev/messages reports it), as the resident reads it."""
    payload = message.get("payload") or {}
    if message.get("kind") in ("template", "subscribe"):
        lines = [f"{key}：{(value or {}).get('value', '')}" for key, value in (payload.get("data") or {}).items()]
        if payload.get("url") or payload.get("page"):
            lines.append(payload.get("url") or payload["page"])
        label = "（模板消息）" if message["kind"] == "template" else "（订阅通知）"
        return label + "\n".join(lines)
    msg_type = payload.get("msgtype") or ""
    if msg_type == "text":
        text = (payload.get("text") or {}).get("content") or ""
    elif msg_type == "news":
        articles = (payload.get("news") or {}).get("articles") or []
        text = "\n\n".join("\n".join(a.get(k) for k in ("title", "description", "url") if a.get(k)) for a in articles)
    else:
        media = payload.get(msg_type) or {}
        text = f"[{_MEDIA_LABELS.get(msg_type, msg_type)}] {media.get('title') or media.get('media_id') or ''}"
    return "（客服消息）" + text.rstrip()


@dataclass
class _Command:
    """One parsed input line: something to send, or a local action."""

    action: Literal["send", "help", "quit"]
    send: Callable[[], Awaitable[str]] | None = None


def parse_line(line: str, client: ChatClient, dev: DevWeChatClient | None = None) -> _Command:
    """Map one input line to what it does; ValueError carries a one-line usage hint."""
    if not line.startswith("/"):
        return _Command("send", lambda: client.send_text(line))
    command, _, arg = line.partition(" ")
    arg = arg.strip()
    match command:
        case "/help":
            return _Command("help")
        case "/quit":
            return _Command("quit")
        case "/location":
            lat, lng, label = _parse_location(arg)
            return _Command("send", lambda: client.send_location(lat, lng, label))
        case "/click":
            if not arg:
                raise ValueError("用法：/click KEY")
            return _Command("send", lambda: client.click(arg))
        case "/image":
            path = Path(arg).expanduser() if arg else SAMPLE_PHOTO
            return _Command("send", lambda: send_photo(client, dev, path))
        case "/voice":
            return _Command("send", lambda: client.send_voice(arg))
        case "/subscribe":
            return _Command("send", lambda: client.subscribe(arg or None))
        case "/unsubscribe":
            return _Command("send", client.unsubscribe)
    raise ValueError(f"未知命令 {command}，输入 /help 查看可用命令")


async def send_photo(client: ChatClient, dev: DevWeChatClient | None, path: Path) -> str:
    """Upload the image at path to the stand-in, then send the image message carrying its media_id."""
    if dev is None:
        raise ChatError("没有配置微信接口替身（--wechat-api），无法上传图片")
    try:
        content = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise ChatError(f"无法读取图片 {path}：{exc.strerror or exc}") from exc
    try:
        media_id = await dev.upload_image(content, path.name)
    except ChatError as exc:
        raise ChatError(f"{exc}；图片未发送") from exc
    return await client.send_image(media_id)


_LOCATION = re.compile(r"([-+]?\d+(?:\.\d+)?)\s*[,，]\s*([-+]?\d+(?:\.\d+)?)(?:\s+(.*))?")


def _parse_location(arg: str) -> tuple[float, float, str]:
    usage = "用法：/location 纬度,经度 [地名]，例如 /location 22.543096,114.057865 福田区"
    match = _LOCATION.fullmatch(arg)
    if match is None:
        raise ValueError(usage)
    lat, lng = float(match[1]), float(match[2])
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValueError(usage)
    return lat, lng, (match[3] or "").strip()


async def _show_sent(dev: DevWeChatClient, screen: _Screen) -> bool:
    """Print the messages the bot sent the resident since last asked; False if there were none."""
    try:
        messages = await dev.new_messages()
    except ChatError:
        return False  # only /image needs the stand-in; without it there is simply nothing to show
    for message in messages:
        screen.line(render_sent(message))
    return bool(messages)


class _Screen:
    """Output, with ANSI dim/red only on a terminal."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def dim(self, text: str) -> None:
        self.line(f"\x1b[2m{text}\x1b[0m" if self.tty else text)

    def error(self, text: str) -> None:
        self.line(f"\x1b[31m✗ {text}\x1b[0m" if self.tty else f"✗ {text}")


def _script_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _typed_lines(inp: IO[str], screen: _Screen, prompt: str) -> Iterator[str]:
    """Lines a person types. Reading blocks the event loop, which has nothing else to do meanwhile."""
    if inp is sys.stdin and inp.isatty():
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (imported for its side effect: line editing and history)
        while True:
            try:
                yield input(prompt)
            except (EOFError, KeyboardInterrupt):
                screen.line()
                return
    for line in inp:
        # Piped input is not shown by the terminal: echo it so the output reads as a transcript.
        if line.strip():
            screen.line(prompt + line.strip())
        yield line


async def run_chat(
    *,
    url: str,
    openid: str,
    token: str,
    app_id: str,
    encoding_aes_key: str,
    original_id: str,
    safe: bool,
    script: Path | None,
    wechat_api: str | None = None,
    out: IO[str] = sys.stdout,
    inp: IO[str] = sys.stdin,
) -> int:
    """Chat interactively, or replay a script file; return 1 if any line of a script failed.

    With `wechat_api` (the development stand-in for WeChat's API), /image uploads there, and the
    messages the bot sent the resident through the API are shown at the start and after each reply.
    """
    screen = _Screen(out)
    prompt = "> "
    try:
        client = ChatClient(
            url,
            openid=openid,
            token=token,
            app_id=app_id,
            encoding_aes_key=encoding_aes_key,
            original_id=original_id,
            safe=safe,
        )
    except ValueError as exc:
        screen.error(str(exc))
        return 2
    if script is not None:
        try:
            lines: Iterator[str] = iter(_script_lines(script))
        except (OSError, UnicodeDecodeError) as exc:
            screen.error(f"无法读取脚本 {script}：{getattr(exc, 'strerror', None) or exc}")
            return 2
    else:
        mode = "安全模式（加密）" if safe else "明文模式"
        screen.dim(f"连接 {url}，openid {openid}，{mode}。输入 /help 查看命令，/quit 退出。")
        lines = _typed_lines(inp, screen, prompt)
    dev = DevWeChatClient(wechat_api, openid=openid, app_id=app_id) if wechat_api else None
    failed = False
    async with client, dev or contextlib.nullcontext():
        # What was sent while no chat was open comes first, as WeChat shows a chat's history on opening it.
        if dev is not None and await _show_sent(dev, screen):
            screen.line()
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if script is not None:
                screen.line(prompt + line)
            try:
                command = parse_line(line, client, dev)
            except ValueError as exc:
                screen.error(str(exc))
                screen.line()
                failed = True
                continue
            if command.action == "quit":
                break
            if command.action == "help":
                screen.line(HELP)
                continue
            assert command.send is not None
            try:
                reply = await command.send()
            except ChatError as exc:
                screen.error(str(exc))
                failed = True
            else:
                if reply:
                    screen.line(as_read(reply))
                else:
                    screen.dim(NO_REPLY)
            if dev is not None:
                await _show_sent(dev, screen)
            screen.line()
    return 1 if failed and script is not None else 0
