"""The conversation state's codec (bot/state/base.py) on any input (issue 12, point 4): every
state the engine saves comes back equal, from memory and from Redis, and a saved value that is
not a state (garbage, another program's, a truncated write) reads as no state: the resident
starts again instead of being stuck (tests/regressions/test_a_garbled_saved_state_failed_every_message.py).
Profiles: tests/properties.py.
"""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.dispatch import BUSY
from bot.state.base import dump_state, load_state
from bot.state.memory import MemoryStore
from bot.state.redis import RedisStore
from conversations.keys import Command, MenuKey
from tests.harness import Residents, make_settings
from tests.properties import HTTP, XML_TEXT, examples

# JSON as the engine writes it: string keys, no NaN (json would write it, and it equals nothing).
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
STATES = st.fixed_dictionaries(
    {"v": st.integers(0, 3), "flow": st.text(max_size=20), "step": st.text(max_size=30)},
    optional={
        "answers": st.dictionaries(st.text(max_size=20), JSON, max_size=6),
        "history": st.lists(st.text(max_size=20), max_size=6),
        "editing": st.booleans(),
        "updated_at": st.integers(0, 2**40) | st.floats(0, 2**40),
    },
)


@given(state=STATES)
def test_a_state_comes_back_equal(state):
    assert load_state(dump_state(state)) == state


@given(
    raw=st.binary() | st.text() | st.sampled_from(["[]", "1", '"x"', "null", "{", '{"v": 2', "\ufeff{}", "[" * 10**5])
)
def test_anything_else_reads_as_a_state_or_as_none(raw):
    state = load_state(raw)
    assert state is None or isinstance(state, dict)


@given(state=STATES)
async def test_a_state_comes_back_equal_from_the_memory_store(state):
    store = MemoryStore(dedup_ttl_s=60, lock_timeout_s=1)
    turn = (await store.begin("msg:o1:1", "o1")).turn
    await store.commit(turn, state, 60, "")
    assert await store.load_state("o1") == state


@settings(max_examples=examples(30))
@given(state=STATES)
async def test_a_state_comes_back_equal_from_redis(redis_url, state):
    store = RedisStore(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:", dedup_ttl_s=60, lock_timeout_s=1)
    try:
        turn = (await store.begin("msg:o1:1", "o1")).turn
        await store.commit(turn, state, 60, "")
        assert await store.load_state("o1") == state
    finally:
        await store.close()


# -- through the engine: what it saves, on any walk through the flows ---------------------------


class CheckingStore(MemoryStore):
    """The memory store, checking that each state the engine saves survives the codec unchanged."""

    async def commit(self, turn, state, state_ttl_s, reply):
        if state is not None:
            assert load_state(dump_state(state)) == state, state
        await super().commit(turn, state, state_ttl_s, reply)


WORDS = sorted(
    {key.keyword for key in MenuKey}
    | {word for command in Command for word in command.value}
    | {"1", "2", "3", "确认", "修改 1", "修改 9", "是", "否", "福田", "南山区", "2025-03-01", "今天"}
    | {"440304199001011230", "13800138000", "91440300MA5DC1WX3L", "zhangsan01", "Abcdefg123", "张三"}
)


@st.composite
def walks(draw: st.DrawFn) -> list[tuple[str, str]]:
    kinds = st.sampled_from(["text", "text", "text", "click", "location", "image", "voice"])
    walk = []
    for kind in draw(st.lists(kinds, min_size=1, max_size=12)):
        value = draw(st.sampled_from([k.name for k in MenuKey]) if kind == "click" else st.sampled_from(WORDS))
        walk.append((kind, draw(XML_TEXT) if kind == "text" and draw(st.booleans()) else value))
    return walk


@settings(max_examples=examples(25), **HTTP)
@given(walk=walks())
async def test_every_state_the_engine_saves_on_any_walk_survives_the_codec(start_bot, tmp_path, walk):
    settings = make_settings(tmp_path)
    resident = Residents(await start_bot(settings, store=CheckingStore(dedup_ttl_s=60, lock_timeout_s=5)), settings)(
        f"o_walk_{uuid.uuid4().hex[:8]}"
    )
    for kind, value in walk:
        if kind == "click":
            reply = await resident.click(value)
        elif kind == "location":
            reply = await resident.send_location(22.54, 114.05, value)
        elif kind == "image":
            reply = await resident.send_image()
        elif kind == "voice":
            reply = await resident.send_voice(value)
        else:
            reply = await resident.send_text(value)
        assert reply != BUSY, (kind, value)
