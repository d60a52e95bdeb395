"""Incoming pushes: XML → `Incoming`, a plain record the rest of the bot reads.

Parsed into xmltodict's shape (entities disabled), the parser under wechatpy's `parse_message`:
that function rewrites `Event` for QR-scene subscriptions, which the dedup key needs as sent, and
it returns `UnknownMessage` for the subscribe_msg_* events. ElementTree's C parser builds that
shape in half xmltodict's time; xmltodict itself decides whatever the two could read
differently (namespaces, and anything ElementTree refuses).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.parsers.expat import ExpatError

import xmltodict

_FORBIDDEN = re.compile(rb"<!(?:DOCTYPE|ENTITY)|\x00", re.IGNORECASE)


class MalformedMessage(Exception):
    """Not a WeChat push: bad XML, not UTF-8, a DOCTYPE/ENTITY, or a missing required field."""


def parse_xml(body: bytes | str) -> dict[str, object]:
    """The children of the root <xml> element; refuses DTDs before parsing anything.

    WeChat sends UTF-8. Anything else is refused, and the parsers read UTF-8 whatever encoding the
    XML declaration names: the DTD check looks at the bytes, and in another encoding (UTF-16, say)
    a <!DOCTYPE would not be those bytes.
    """
    raw = body.encode() if isinstance(body, str) else body
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMessage("body is not UTF-8") from None
    if _FORBIDDEN.search(raw):  # a NUL too: no XML has one, a UTF-16 body without its BOM does
        raise MalformedMessage("DOCTYPE, ENTITY or NUL in body")
    doc = _parse_fast(raw)
    if doc is None:
        try:
            # Values keep their spaces; whitespace between elements lands in "#text" and is ignored.
            doc = xmltodict.parse(raw, encoding="utf-8", disable_entities=True, strip_whitespace=False)
        except (ExpatError, ValueError) as exc:
            raise MalformedMessage(str(exc)) from None
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise MalformedMessage("root element is not <xml>")
    return root


class _Namespaced(Exception):
    """A name ElementTree resolved against a namespace, which xmltodict keeps as written."""


def _parse_fast(raw: bytes) -> dict[str, object] | None:
    """What xmltodict.parse(raw, strip_whitespace=False) returns, or None to let it decide."""
    if b"xmlns" in raw:  # ElementTree consumes namespace declarations that xmltodict keeps
        return None
    try:
        parser = ET.XMLParser(encoding="utf-8")  # not the encoding the declaration names
        parser.feed(raw)
        root = parser.close()
        return {root.tag: _item(root)}
    except (ET.ParseError, ValueError, LookupError, RecursionError, _Namespaced):
        return None  # xmltodict reads it, or says what is wrong


def _item(element: ET.Element) -> object:
    """xmltodict's value for an element: its text, or a dict of "@attributes", children (a list
    when repeated) and "#text" (all its own text, whitespace included)."""
    if "{" in element.tag:  # a prefixed name ElementTree resolved, such as xml:lang
        raise _Namespaced
    item: dict[str, object] | None = None
    if element.attrib:
        if any("{" in name for name in element.attrib):
            raise _Namespaced
        item = {"@" + name: value for name, value in element.attrib.items()}
    text = element.text or ""
    for child in element:
        if item is None:
            item = {}
        value = _item(child)
        if child.tag not in item:
            item[child.tag] = value
        elif isinstance(kept := item[child.tag], list):
            kept.append(value)
        else:
            item[child.tag] = [kept, value]
        text += child.tail or ""
    if item is None:
        return text or None
    if text:
        item["#text"] = text
    return item


@dataclass(frozen=True, slots=True)
class Incoming:
    to_user: str  # our account's original id
    openid: str  # FromUserName
    create_time: str
    msg_type: str  # as sent: text, image, voice, location, event, ...
    event: str = ""  # as sent: subscribe, CLICK, LOCATION, ...
    fields: dict[str, object] = field(default_factory=dict)

    def get(self, name: str) -> str:
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""

    @property
    def msg_id(self) -> str:
        return self.get("MsgId")

    @property
    def dedup_key(self) -> str:
        # The sender in both: a MsgId sent again as another user must not fetch the first one's reply.
        if self.msg_type != "event" and self.msg_id:
            return f"msg:{self.openid}:{self.msg_id}"
        kind = self.event if self.msg_type == "event" else self.msg_type
        return f"evt:{self.openid}:{self.create_time}:{kind}"

    @property
    def content(self) -> str:
        return self.get("Content")

    @property
    def event_key(self) -> str:
        return self.get("EventKey")

    @property
    def location(self) -> tuple[float, float] | None:
        """(lat, lng) of a location message or a LOCATION event."""
        lat, lng = (
            (self.get("Latitude"), self.get("Longitude"))
            if self.msg_type == "event"
            else (self.get("Location_X"), self.get("Location_Y"))
        )
        try:
            where = float(lat), float(lng)
        except ValueError:
            return None
        # float() also reads nan, inf and 1e999: no place, nor is a latitude past the poles.
        if not (-90 <= where[0] <= 90 and -180 <= where[1] <= 180):
            return None
        return where


REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")


def parse_message(body: bytes | str) -> Incoming:
    root = parse_xml(body)
    missing = [name for name in REQUIRED if not isinstance(root.get(name), str) or not root[name]]
    if missing:
        raise MalformedMessage(f"missing {', '.join(missing)}")
    msg_type = str(root["MsgType"])
    event = root.get("Event")
    if msg_type == "event" and not isinstance(event, str):
        raise MalformedMessage("event without Event")
    if not str(root["CreateTime"]).isdigit():
        raise MalformedMessage("CreateTime is not a number")
    return Incoming(
        to_user=str(root["ToUserName"]),
        openid=str(root["FromUserName"]),
        create_time=str(root["CreateTime"]),
        msg_type=msg_type,
        event=event if isinstance(event, str) else "",
        fields=root,
    )
