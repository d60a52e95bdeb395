"""Pre-generate signed (in safe mode also encrypted) callback requests for wrk.

wrk's Lua has no sha1 or AES, so every request is built here: one per line,
`path?query<TAB>body`. Each has its own MsgId (a repeated one is a dedup hit, not a turn). The
lines go round-robin over the users, so one user's messages are `users` lines apart, and each
user alternates 受理点 (starts the flow: the bot asks where) and 南山 (completes it: three
points), starting with 受理点.

Signing and encryption use hashlib and wechatpy, not the bot's code, so the bench does not check
the bot against itself.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import time
from pathlib import Path
from urllib.parse import urlencode

from wechatpy.crypto import PrpCrypto

from bot.config import WeChatConfig, load_settings
from bot.dev.chat import push_xml

MESSAGES = ("受理点", "南山")


def openid(user: int) -> str:
    return f"obench{user:022d}"  # 28 characters, like a real OpenID


def write_requests(
    wechat: WeChatConfig, out: Path, *, count: int, first_msgid: int, users: int = 1000, safe: bool = False
) -> None:
    prp = PrpCrypto(base64.b64decode(wechat.encoding_aes_key + "=")) if safe else None
    timestamp = str(int(time.time()))
    with out.open("w", encoding="utf-8") as lines:
        for i in range(count):
            user, turn = i % users, i // users
            fields = {
                "ToUserName": wechat.original_id,
                "FromUserName": openid(user),
                "CreateTime": int(timestamp),
                "MsgType": "text",
                "Content": MESSAGES[turn % 2],
                "MsgId": first_msgid + i,
            }
            # One nonce per request, as WeChat's: the bot refuses a (timestamp, nonce, signature) it
            # has seen with another body, and random nonces would collide in a long run.
            nonce = str(first_msgid + i)
            query = {
                "signature": _sha1_sorted(wechat.token, timestamp, nonce),
                "timestamp": timestamp,
                "nonce": nonce,
                "openid": openid(user),
            }
            body = push_xml(fields)
            if prp is not None:
                encrypt = prp.encrypt(body, wechat.app_id).decode()
                query["encrypt_type"] = "aes"
                query["msg_signature"] = _sha1_sorted(wechat.token, timestamp, nonce, encrypt)
                body = push_xml({"ToUserName": wechat.original_id, "Encrypt": encrypt})
            lines.write(f"/wechat?{urlencode(query)}\t{body}\n")


def _sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="the bot's config (default: $RB_CONFIG or ./config.yaml)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--first-msgid", type=int, required=True, help="MsgIds are first..first+count-1")
    parser.add_argument("--safe", action="store_true", help="encrypt_type=aes with msg_signature")
    args = parser.parse_args()
    write_requests(
        load_settings(args.config).wechat,
        args.out,
        count=args.count,
        first_msgid=args.first_msgid,
        users=args.users,
        safe=args.safe,
    )


if __name__ == "__main__":
    main()
