"""Coverage-guided fuzzing of the callback's decode: signature → decryption → XML parse.

Run with `make fuzz` (fuzz/README.md): libFuzzer, through atheris, mutates inputs towards code
not yet covered in bot/wechat/ and the XML parsers under it. Every input must come out of
`Callback.decode` as a push or as `Rejected` with 400 or 403; any other exception is a finding,
and libFuzzer stops and writes the input that raised it (crash-<sha1>).

An input is one selector byte, a nonce and a body. The selector picks the mode, and whether the
query is signed and the body sealed as WeChat would, so that the fuzzer is not stopped at the
SHA-1 checks and reaches what lies behind them with any body:

    bit 0-1  mode: plain, compat, safe (3 reads as safe)
    bit 2    sign the query with the fuzz token (otherwise the signatures are the input's bytes)
    bit 3    encrypted: seal the body (compat, safe) as the Encrypt of an envelope
    bit 4    with bit 3, seal it with another AppID; without bit 3, the body is the envelope's Encrypt as it is
    bit 5    with bit 3, the sealed buffer's padding is wrong (its last byte repeated)
    byte 1   nonce length n; bytes 2 .. 2+n the nonce; the rest is the body
"""

from __future__ import annotations

import base64
import struct
import sys
from pathlib import Path

import atheris
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

with atheris.instrument_imports(include=["bot", "xmltodict"]):
    from bot.config import WeChatConfig
    from bot.wechat.callback import Callback, Rejected
    from bot.wechat.crypto import cdata
    from bot.wechat.signature import sign

TOKEN = "fuzztoken1"
APP_ID = "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
MODES = ("plain", "compat", "safe", "safe")
CALLBACKS = {
    mode: Callback(WeChatConfig(token=TOKEN, app_id=APP_ID, encoding_aes_key=AES_KEY, mode=mode, max_clock_skew_s=0))
    for mode in set(MODES)
}
SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "samples" / "messages"


def seal(xml: bytes, app_id: bytes, bad_padding: bool) -> str:
    """Encrypt as WeChat does: random(16) ‖ len(4) ‖ xml ‖ appid, PKCS#7 to 32 bytes, AES-CBC;
    with bad_padding, the pad bytes repeat the buffer's last byte instead of the pad's length."""
    key = base64.b64decode(AES_KEY + "=")
    plain = b"0123456789abcdef" + struct.pack(">I", len(xml)) + xml + app_id
    pad = 32 - len(plain) % 32
    plain += plain[-1:] * pad if bad_padding else bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def request(data: bytes) -> tuple[str, dict[str, str], bytes]:
    """The mode, query and body an input stands for."""
    selector = data[0] if data else 0
    length = data[1] if len(data) > 1 else 0
    nonce = data[2 : 2 + length].decode("utf-8", "replace")
    body = data[2 + length :]
    mode = MODES[selector & 3]
    timestamp = "1700000000"
    query = {"timestamp": timestamp, "nonce": nonce}
    encrypted = mode != "plain" and bool(selector & 8 or selector & 16)
    if encrypted:
        if selector & 8:
            app_id = b"wx0000000000000000" if selector & 16 else APP_ID.encode()
            encrypt = seal(body, app_id, bool(selector & 32))
        else:
            encrypt = body.decode("utf-8", "replace")
        body = f"<xml><ToUserName><![CDATA[gh_fuzz]]></ToUserName><Encrypt><![CDATA[{cdata(encrypt)}]]></Encrypt></xml>"
        body = body.encode()
        query |= {"encrypt_type": "aes", "msg_signature": sign(TOKEN, timestamp, nonce, encrypt)}
    if selector & 4:
        query["signature"] = sign(TOKEN, timestamp, nonce)
    else:
        query["signature" if not encrypted else "msg_signature"] = nonce
    return mode, query, body


def test_one_input(data: bytes) -> None:
    mode, query, body = request(data)
    try:
        CALLBACKS[mode].decode(query, body)
    except Rejected as refused:
        if refused.status not in (400, 403):
            raise


def write_seeds(directory: Path) -> None:
    """The repository's sample pushes, each as a plain, a compat and a safe input, signed and sealed."""
    directory.mkdir(parents=True, exist_ok=True)
    nonce = b"1320562132"
    for sample in sorted(SAMPLES.glob("*.xml")):
        for selector in (0b0100, 0b1101, 0b1110):
            seed = bytes([selector, len(nonce)]) + nonce + sample.read_bytes()
            (directory / f"{sample.stem}-{selector:02x}").write_bytes(seed)


def main() -> None:
    if sys.argv[1:2] == ["--seeds"]:
        write_seeds(Path(sys.argv[2]))
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
