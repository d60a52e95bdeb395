"""WeChat's request signatures: sha1 over the sorted parts, compared in constant time."""

import hashlib
import hmac


def sign(*parts: str) -> str:
    # wechatpy's WeChatSigner, without its per-call object: parts sorted as UTF-8 bytes, joined.
    return hashlib.sha1(b"".join(sorted(part.encode() for part in parts))).hexdigest()


def signature_ok(received: str, *parts: str) -> bool:
    # wechatpy compares with `!=`; a timing-safe compare costs nothing here.
    return hmac.compare_digest(received.encode(), sign(*parts).encode())
