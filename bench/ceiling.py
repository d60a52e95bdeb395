"""The ceiling: a bare aiohttp callback that checks the signature and answers a fixed reply.

No parsing, no state, no database: what one Python process on this machine can answer at all,
so the bot's figures read as a share of it.
Usage: python bench/ceiling.py PORT TOKEN
"""

from __future__ import annotations

import hashlib
import hmac
import sys

from aiohttp import web

REPLY = (
    "<xml><ToUserName><![CDATA[obench0000000000000000000000]]></ToUserName>"
    "<FromUserName><![CDATA[gh_000000000000]]></FromUserName><CreateTime>1700000000</CreateTime>"
    "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[bench ceiling]]></Content></xml>"
)


def make_app(token: str) -> web.Application:
    async def callback(request: web.Request) -> web.Response:
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        await request.read()
        expected = hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()
        if not hmac.compare_digest(q.get("signature", "").encode(), expected.encode()):
            return web.Response(status=403, text="bad signature")
        return web.Response(text=REPLY, content_type="application/xml")

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")  # for bench.py to see it is up

    app = web.Application()
    app.router.add_post("/wechat", callback)
    app.router.add_get("/healthz", healthz)
    return app


if __name__ == "__main__":
    port, token = int(sys.argv[1]), sys.argv[2]
    web.run_app(make_app(token), host="127.0.0.1", port=port, access_log=None, print=None)
