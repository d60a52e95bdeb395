"""WeChat's request signatures: sha1 over the sorted parts, compared in constant time."""

import hmac

from wechatpy.utils import WeChatSigner


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def signature_ok(received: str, *parts: str) -> bool:
    # wechatpy compares with `!=`; a timing-safe compare costs nothing here.
    return hmac.compare_digest(received.encode(), sign(*parts).encode())
