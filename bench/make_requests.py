"""Pre-generate signed (and in safe mode, encrypted) callback requests for wrk.

wrk's Lua has no sha1 or AES, so every request is built here: one per line,
`path?query<TAB>body`. Each has its own MsgId (a repeated one would be a dedup hit, not a
turn). Lines go round-robin over the users, so one user's messages are USERS lines apart, and
each user alternates 受理点 (starts the flow) and 南山 (completes it), starting with 受理点.

Signing and encryption use wechatpy and hashlib, not the bot's own code, so the bench does not
check the bot against itself.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

from wechatpy.crypto import PrpCrypto

from bot.chat import push_xml
from bot.config import load_settings

MESSAGES = ("受理点", "南山")


def _sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def openid(user: int) -> str:
    return f"obench{user:022d}"  # 28 characters, like a real OpenID


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="the bot's YAML config (token, keys, ids)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--first-msgid", type=int, required=True, help="MsgIds are first..first+count-1")
    parser.add_argument("--safe", action="store_true", help="encrypt_type=aes with msg_signature")
    args = parser.parse_args()

    w = load_settings(args.config).wechat
    key = PrpCrypto(base64.b64decode(w.encoding_aes_key + "=")) if args.safe else None
    timestamp = str(int(time.time()))
    with args.out.open("w", encoding="utf-8") as out:
        for i in range(args.count):
            user, turn = i % args.users, i // args.users
            fields = {
                "ToUserName": w.original_id,
                "FromUserName": openid(user),
                "CreateTime": int(timestamp),
                "MsgType": "text",
                "Content": MESSAGES[turn % 2],
                "MsgId": args.first_msgid + i,
            }
            nonce = str(secrets.randbelow(10**10))
            query = {
                "signature": _sha1_sorted(w.token, timestamp, nonce),
                "timestamp": timestamp,
                "nonce": nonce,
                "openid": openid(user),
            }
            body = push_xml(fields)
            if key is not None:
                encrypt = key.encrypt(body, w.app_id).decode()
                query["encrypt_type"] = "aes"
                query["msg_signature"] = _sha1_sorted(w.token, timestamp, nonce, encrypt)
                body = push_xml({"ToUserName": w.original_id, "Encrypt": encrypt})
            out.write(f"/wechat?{urlencode(query)}\t{body}\n")


if __name__ == "__main__":
    main()
