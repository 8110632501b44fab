"""Unit tests of the payload codec: runtime/lua/codec.lua and runtime/_codec.py.

The Lua codec runs in a bare lupa runtime with a tiny test-local error object and Payload (tables
tagged by metatables) as its hooks. Expected bytes come from the msgpack package, which writes
the smallest formats too, not from the code under test.
"""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lupa import lua54
from orrery.runtime._codec import (
    MAX_DEPTH,
    ErrorValue,
    decode,
    encode,
    from_json_text,
    to_json_text,
)
from orrery.runtime._errors import InvalidError, UsageError

CODEC_LUA = Path(__file__).resolve().parents[2] / "runtime" / "lua" / "codec.lua"

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

HOOKS = rb"""
local ctor = ...
local ErrMT = {__name = "error", __metatable = "error"}
local PayMT = {__name = "payload"}
E = {}
function E.new(kind, message, retryable, details)
  return setmetatable({kind = kind, message = message, retryable = retryable,
                       details = details}, ErrMT)
end
function E.is(v) return debug.getmetatable(v) == ErrMT end
function E.fields(e) return e.kind, e.message, e.retryable, e.details end
function E.payload(v) return setmetatable({v = v}, PayMT) end
codec = ctor({
  is_error = E.is,
  error_fields = E.fields,
  make_error = E.new,
  unwrap = function(v)
    if debug.getmetatable(v) == PayMT then return true, v.v end
    return false
  end,
})

-- Whether the value graphs a and b share a table (a copy must share none).
function shares(a, b)
  local seen = {}
  local function mark(v)
    if type(v) ~= "table" or seen[v] then return end
    seen[v] = true
    for k, x in next, v do mark(k); mark(x) end
  end
  mark(a)
  local found = false
  local function look(v, walked)
    if type(v) ~= "table" or walked[v] then return end
    walked[v] = true
    if seen[v] then found = true end
    for k, x in next, v do look(k, walked); look(x, walked) end
  end
  look(b, {})
  return found
end

function roundtrip(v)
  local bytes, why = codec.encode(v)
  if not bytes then return nil, why end
  return codec.decode(bytes)
end

function mt_count(v)
  if type(v) ~= "table" then return 0 end
  local n = debug.getmetatable(v) and 1 or 0
  for _, x in next, v do n = n + mt_count(x) end
  return n
end

-- Threads turn into functions when they cross into Python, so unsendable leaves are made and
-- stored on the Lua side, and values are handed around in a box: {value}.
BAD = {
  ["function"] = function() return function() end end,
  thread = function() return coroutine.create(function() end) end,
  time = function() return setmetatable({}, {__name = "Time", __metatable = "time"}) end,
  plain_mt = function() return setmetatable({}, {}) end,
}
function set_bad(t, k, what) t[k] = BAD[what]() end
function copy1(box) return codec.copy(box[1]) end
function payload1(box) return E.payload(box[1]) end
function encode1(box) return codec.encode(box[1]) end

return codec
"""


class Lua:
    """A bare Lua runtime with codec.lua loaded and helpers to build and read values."""

    def __init__(self) -> None:
        self.rt = lua54.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            encoding=None,
            unpack_returned_tuples=True,
        )
        ctor = self.rt.execute(CODEC_LUA.read_bytes())
        self.codec = self.rt.execute(HOOKS, ctor)
        self.g = self.rt.globals()
        self.E = self.g.E

    def eval(self, src: str) -> Any:
        return self.rt.eval(src.encode())

    def run(self, src: str) -> Any:
        return self.rt.execute(src.encode())

    def encode(self, v: Any) -> bytes:
        r = self.codec.encode(v)
        assert isinstance(r, bytes), r
        return r

    def encode_fails(self, v: Any) -> str:
        r = self.codec.encode(v)
        assert isinstance(r, tuple) and r[0] is None, r
        return r[1].decode()

    def copy_fails(self, v: Any) -> str:
        r = self.codec.copy(v)
        assert isinstance(r, tuple) and r[0] is None, r
        return r[1].decode()

    def fails_in_lua(self, fn: str, src: str) -> str:
        """The problem codec.<fn> reports for the value of `src`, evaluated inside Lua."""
        r = self.run(f"return codec.{fn}({src})")
        assert isinstance(r, tuple) and r[0] is None, r
        return r[1].decode()

    def decode(self, data: bytes) -> Any:
        return self.codec.decode(data)

    def decode_fails(self, data: bytes) -> str:
        ok, msg = self.g.pcall(self.codec.decode, data)
        assert ok is False, f"decoded {data!r}"
        return msg.decode() if isinstance(msg, bytes) else str(msg)

    # -- building Lua values from a Python model ----------------------------------------------
    #
    # Model: None, bool, int, float, bytes; dict {key: value} (key int | float | bool | bytes,
    # values never None); ("error", kind, message, retryable, details | None);
    # ("payload", value); ("bad", what) for unsendable leaves.

    def build(self, m: Any) -> Any:
        """A box (a Lua table) whose element 1 is the value of model `m`."""
        box = self.rt.table()
        self._put(box, 1, m)
        return box

    def _put(self, t: Any, k: Any, m: Any) -> None:
        if isinstance(m, tuple) and m[0] == "bad":
            self.g.set_bad(t, k, m[1])
        else:
            t[k] = self._value(m)

    def _value(self, m: Any) -> Any:
        if isinstance(m, dict):
            t = self.rt.table()
            for k, v in m.items():
                self._put(t, k, v)
            return t
        if isinstance(m, tuple):
            tag = m[0]
            if tag == "error":
                details = None if m[4] is None else self._value(m[4])
                return self.E.new(m[1], m[2], m[3], details)
            assert tag == "payload"
            return self.g.payload1(self.build(m[1]))
        return m

    def to_py(self, v: Any) -> Any:
        """A canonical Python form of a Lua value; floats and booleans are tagged."""
        if isinstance(v, bool):
            return ("bool", v)
        if isinstance(v, float):
            return ("float", "nan" if math.isnan(v) else repr(v))
        if lua54.lua_type(v) == "table":
            if self.E[b"is"](v):
                kind, message, retryable, details = self.g.E.fields(v)
                return ("error", kind, message, self.to_py(retryable), self.to_py(details))
            return {self.to_py(k): self.to_py(x) for k, x in v.items()}
        return v


BAD = (b"function", b"thread", b"time", b"plain_mt")


def expected(m: Any) -> Any:
    """The canonical form ``decode(encode(build(m)))`` must have."""
    if isinstance(m, bool):
        return ("bool", m)
    if isinstance(m, float):
        return ("float", "nan" if math.isnan(m) else repr(m))
    if isinstance(m, dict):
        return {expected(k): expected(v) for k, v in m.items() if expected(v) is not None}
    if isinstance(m, tuple) and m[0] == "error":
        details = None if m[4] is None else expected(m[4])
        return ("error", m[1], m[2], expected(m[3]), details)
    if isinstance(m, tuple) and m[0] == "payload":
        return expected(m[1])
    return m


@pytest.fixture(scope="module")
def lua() -> Lua:
    return Lua()


def nested(depth: int) -> str:
    """Lua source of `depth` nested tables."""
    return "{" * depth + "}" * depth


# ---------------------------------------------------------------------------------------------
# Lua encode: formats
# ---------------------------------------------------------------------------------------------

INT_BOUNDARIES = [
    0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, INT64_MAX,
    -1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, INT64_MIN,
]  # fmt: skip


class TestLuaEncodeFormats:
    @pytest.mark.parametrize("n", INT_BOUNDARIES)
    def test_integers_use_the_smallest_format(self, lua: Lua, n: int) -> None:
        """Integers are written in the smallest msgpack int format, exactly as msgpack does."""
        assert lua.g.math.type(n) == b"integer"
        assert lua.encode(n) == msgpack.packb(n)

    @pytest.mark.parametrize("x", [1.0, 0.0, -0.0, 0.1, 1e300, -2.5, math.inf, -math.inf])
    def test_floats_are_always_float64(self, lua: Lua, x: float) -> None:
        """Floats, whole or not, are float64 so 1.0 stays a float."""
        assert lua.encode(x) == b"\xcb" + struct.pack(">d", x)

    def test_nan_is_float64(self, lua: Lua) -> None:
        data = lua.encode(lua.eval("0/0"))
        assert data[0] == 0xCB and math.isnan(struct.unpack(">d", data[1:])[0])

    @pytest.mark.parametrize("n", [0, 31, 32, 255, 256, 65535, 65536])
    def test_utf8_strings_are_str(self, lua: Lua, n: int) -> None:
        s = ("é" * n)[:n] if n % 2 == 0 else "a" * n
        raw = s.encode()
        assert lua.encode(raw) == msgpack.packb(s, use_bin_type=True)

    @pytest.mark.parametrize(
        "raw", [b"\xff", b"a\x00\xfe", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\x80"]
    )
    def test_invalid_utf8_strings_are_bin(self, lua: Lua, raw: bytes) -> None:
        """Binary strings (bad bytes, truncated sequences, surrogates, overlong forms) go as bin."""
        assert lua.encode(raw) == msgpack.packb(raw, use_bin_type=True)

    @pytest.mark.parametrize("n", [256, 65536])
    def test_long_binary_strings(self, lua: Lua, n: int) -> None:
        raw = b"\xff" * n
        assert lua.encode(raw) == msgpack.packb(raw, use_bin_type=True)

    def test_nul_bytes_are_valid_utf8(self, lua: Lua) -> None:
        assert lua.encode(b"a\x00b") == msgpack.packb("a\x00b")

    @pytest.mark.parametrize("n", [1, 15, 16, 65535, 65536])
    def test_arrays(self, lua: Lua, n: int) -> None:
        t = lua.eval(f"(function() local t = {{}} for i = 1, {n} do t[i] = i end return t end)()")
        assert lua.encode(t) == msgpack.packb(list(range(1, n + 1)))

    def test_empty_table_is_an_empty_array(self, lua: Lua) -> None:
        assert lua.encode(lua.eval("{}")) == b"\x90"

    @pytest.mark.parametrize("n", [15, 16, 65536])
    def test_maps(self, lua: Lua, n: int) -> None:
        t = lua.eval(
            f"(function() local t = {{}} for i = 1, {n} do t['k' .. i] = i end return t end)()"
        )
        expected = dict(sorted((f"k{i}", i) for i in range(1, n + 1)))
        assert lua.encode(t) == msgpack.packb(expected)

    def test_map_keys_are_sorted_integers_then_strings(self, lua: Lua) -> None:
        t = lua.eval("{b = 1, a = 2, [2] = 3, [-5] = 4, ['\\xff'] = 5, B = 6, [100] = 7}")
        data = lua.encode(t)
        pairs = msgpack.unpackb(data, strict_map_key=False, raw=True, object_pairs_hook=list)
        assert [k for k, _ in pairs] == [-5, 2, 100, b"B", b"a", b"b", b"\xff"]

    def test_sparse_and_hole_tables_are_maps(self, lua: Lua) -> None:
        assert lua.encode(lua.eval("{1, nil, 3}")) == msgpack.packb({1: 1, 3: 3})
        assert lua.encode(lua.eval("{[2] = 'x'}")) == msgpack.packb({2: "x"})
        assert lua.encode(lua.eval("{[0] = 0, 1}")) == msgpack.packb({0: 0, 1: 1})
        assert lua.encode(lua.eval("{1, 2, n = 2}")) == msgpack.packb({1: 1, 2: 2, "n": 2})

    def test_array_with_hole_and_extra_key_is_a_map(self, lua: Lua) -> None:
        """{1, nil, 3, x = 1} may have #t == 3 == number of keys, yet it is not 1..3."""
        t = lua.eval("(function() local t = {1, nil, 3} t.x = 1 return t end)()")
        assert lua.encode(t) == msgpack.packb({1: 1, 3: 3, "x": 1})

    def test_encoding_is_deterministic(self, lua: Lua) -> None:
        """Equal tables built in different orders encode to the same bytes."""
        a = lua.run("local t = {} for i = 1, 200 do t['k' .. i] = i; t[-i] = i end return t")
        b = lua.run("local t = {} for i = 200, 1, -1 do t[-i] = i; t['k' .. i] = i end return t")
        assert lua.encode(a) == lua.encode(b)

    def test_error_objects_are_ext_1(self, lua: Lua) -> None:
        e = lua.eval("E.new('NotFound', 'no such thing', false, {id = 7})")
        ext = msgpack.unpackb(lua.encode(e))
        assert isinstance(ext, msgpack.ExtType) and ext.code == 1
        pairs = msgpack.unpackb(ext.data, object_pairs_hook=list)
        assert pairs == [
            ("details", [("id", 7)]),
            ("kind", "NotFound"),
            ("message", "no such thing"),
            ("retryable", False),
        ]

    def test_error_without_retryable_and_details_omits_them(self, lua: Lua) -> None:
        ext = msgpack.unpackb(lua.encode(lua.eval("E.new('Internal', 'boom')")))
        assert msgpack.unpackb(ext.data) == {"kind": "Internal", "message": "boom"}

    def test_payloads_encode_as_their_value(self, lua: Lua) -> None:
        assert lua.encode(lua.eval("E.payload({1, E.payload('x')})")) == msgpack.packb([1, "x"])
        assert lua.encode(lua.eval("E.payload(nil)")) == b"\xc0"


# ---------------------------------------------------------------------------------------------
# Lua encode and copy: what cannot be sent
# ---------------------------------------------------------------------------------------------

CYCLE = "cannot send a table that contains itself"
NOT_PLAIN = "error object has details that are not a plain table"
UNSENDABLE = [
    ("function() end", "value of type function cannot be sent"),
    ("coroutine.create(function() end)", "value of type thread cannot be sent"),
    ("setmetatable({}, {__name = 'Time', __metatable = 't'})", "value of type Time cannot be sent"),
    ("setmetatable({}, {})", "value of type table with a metatable cannot be sent"),
    ("{f = print}", "value of type function cannot be sent"),
    ("{1, 2, {function() end}}", "value of type function cannot be sent"),
    ("{[1.5] = 1}", "table keys must be strings or integers (got float)"),
    ("{[true] = 1}", "table keys must be strings or integers (got boolean)"),
    ("{[{}] = 1}", "table keys must be strings or integers (got table)"),
    ("{1, 2, [2.5] = 3}", "table keys must be strings or integers (got float)"),
    ("E.payload(function() end)", "value of type function cannot be sent"),
    ("E.new('X', 'm', false, {print})", "value of type function cannot be sent"),
    ("E.new('X', 'm', false, 'not a table')", NOT_PLAIN),
    ("E.new('X', 'm', false, E.payload({}))", NOT_PLAIN),
    ("E.new('X', 'm', false, E.new('Y', 'n'))", NOT_PLAIN),
    ("E.new('X', 42)", "error object has a message that is not a string"),
    ("E.new(nil, 'm')", "error object has a kind that is not a string"),
    ("E.new('X', 'm', 1)", "error object has a retryable flag that is not a boolean"),
    ("(function() local t = {} t[1] = t return t end)()", CYCLE),
    ("(function() local t = {} t.a = {b = {c = t}} return t end)()", CYCLE),
    ("(function() local d = {} local e = E.new('X', 'm', nil, d) d.e = e return e end)()", CYCLE),
    (nested(MAX_DEPTH + 1), "value is nested deeper than 128 levels"),
    (f"E.new('X', 'm', nil, {nested(MAX_DEPTH)})", "value is nested deeper than 128 levels"),
]  # fmt: skip


class TestUnsendable:
    @pytest.mark.parametrize(("src", "message"), UNSENDABLE)
    def test_encode_rejects(self, lua: Lua, src: str, message: str) -> None:
        assert lua.fails_in_lua("encode", src) == message

    @pytest.mark.parametrize(("src", "message"), UNSENDABLE)
    def test_copy_rejects_the_same_way(self, lua: Lua, src: str, message: str) -> None:
        assert lua.fails_in_lua("copy", src) == message

    def test_userdata_is_named_by_its_metatable(self, lua: Lua) -> None:
        """A Python object is userdata; lupa names its metatable POBJECT."""
        assert lua.encode_fails(object()) == "value of type POBJECT cannot be sent"
        assert lua.copy_fails(object()) == "value of type POBJECT cannot be sent"

    def test_depth_limit_is_inclusive(self, lua: Lua) -> None:
        """128 nested tables are fine; an error object counts as one level."""
        for src in [nested(MAX_DEPTH), f"E.new('X', 'm', nil, {nested(MAX_DEPTH - 1)})"]:
            v = lua.eval(src)
            assert lua.to_py(lua.decode(lua.encode(v))) == lua.to_py(lua.codec.copy(v))

    def test_shared_tables_are_not_cycles(self, lua: Lua) -> None:
        """A table reachable twice (a DAG) is sent twice, as encoding would."""
        v = lua.run("local a = {1} return {a, a, {x = a}}")
        c = lua.codec.copy(v)
        assert c[1] is not None and lua.g.rawequal(c[1], c[2]) is False
        assert (
            lua.to_py(c)
            == lua.to_py(lua.decode(lua.encode(v)))
            == {
                1: {1: 1},
                2: {1: 1},
                3: {b"x": {1: 1}},
            }
        )

    def test_failed_calls_leave_the_codec_usable(self, lua: Lua) -> None:
        lua.encode_fails(lua.eval(nested(MAX_DEPTH + 5)))
        lua.copy_fails(lua.eval(nested(MAX_DEPTH + 5)))
        v = lua.eval("{a = {b = {c = 1}}}")
        assert lua.to_py(lua.codec.copy(v)) == {b"a": {b"b": {b"c": 1}}}
        assert lua.encode(v) == msgpack.packb({"a": {"b": {"c": 1}}})


# ---------------------------------------------------------------------------------------------
# Lua decode
# ---------------------------------------------------------------------------------------------

# (msgpack bytes, Lua source of the expected value)
DECODE_FORMATS = [
    (b"\x05", "5"), (b"\x7f", "127"), (b"\xff", "-1"), (b"\xe0", "-32"),
    (b"\xcc\xff", "255"), (b"\xcd\xff\xff", "65535"), (b"\xce\xff\xff\xff\xff", "4294967295"),
    (b"\xcf" + struct.pack(">Q", INT64_MAX), "math.maxinteger"),
    (b"\xcc\x01", "1"), (b"\xcf\x00\x00\x00\x00\x00\x00\x00\x01", "1"),  # non-minimal forms
    (b"\xd0\x80", "-128"), (b"\xd1\x80\x00", "-32768"), (b"\xd2\x80\x00\x00\x00", "-2147483648"),
    (b"\xd3" + struct.pack(">q", INT64_MIN), "math.mininteger"), (b"\xd0\x05", "5"),
    (b"\xca" + struct.pack(">f", 1.5), "1.5"), (b"\xca" + struct.pack(">f", 1.0), "1.0"),
    (b"\xcb" + struct.pack(">d", 2.0), "2.0"),
    (b"\xc0", "nil"), (b"\xc2", "false"), (b"\xc3", "true"),
    (b"\xa3abc", "'abc'"), (b"\xd9\x03abc", "'abc'"), (b"\xda\x00\x03abc", "'abc'"),
    (b"\xdb\x00\x00\x00\x03abc", "'abc'"), (b"\xc4\x02\xff\x00", "'\\xff\\0'"),
    (b"\xc5\x00\x01a", "'a'"), (b"\xc6\x00\x00\x00\x01a", "'a'"), (b"\xa0", "''"),
    (b"\x92\x01\x02", "{1, 2}"), (b"\xdc\x00\x02\x01\x02", "{1, 2}"),
    (b"\xdd\x00\x00\x00\x02\x01\x02", "{1, 2}"), (b"\x90", "{}"), (b"\x80", "{}"),
    (b"\x93\x01\xc0\x03", "{1, nil, 3}"), (b"\x92\xc0\xc0", "{}"),
    (b"\x82\xa1a\x01\x05\x02", "{a = 1, [5] = 2}"), (b"\xde\x00\x01\xa1a\x01", "{a = 1}"),
    (b"\xdf\x00\x00\x00\x01\xa1a\x01", "{a = 1}"), (b"\x81\xc4\x01a\x01", "{a = 1}"),
    (b"\x81\xa1a\xc0", "{}"),
]  # fmt: skip

ERR_MAP16 = b"\x82\xa4kind\xa0\xa7message\xa0"  # exactly 16 bytes: {kind = "", message = ""}


class TestLuaDecode:
    @pytest.mark.parametrize(("data", "src"), DECODE_FORMATS)
    def test_every_format(self, lua: Lua, data: bytes, src: str) -> None:
        assert lua.to_py(lua.decode(data)) == lua.to_py(lua.eval(src))

    @pytest.mark.parametrize(
        "data",
        [
            b"\xd8\x01" + ERR_MAP16,
            b"\xc7\x10\x01" + ERR_MAP16,
            b"\xc8\x00\x10\x01" + ERR_MAP16,
            b"\xc9\x00\x00\x00\x10\x01" + ERR_MAP16,
        ],
    )
    def test_error_ext_formats(self, lua: Lua, data: bytes) -> None:
        assert len(ERR_MAP16) == 16
        assert lua.to_py(lua.decode(data)) == ("error", b"", b"", None, None)

    def test_error_with_everything(self, lua: Lua) -> None:
        data = encode(ErrorValue("Timeout", "slow", True, {"a": [1, 2]}))
        assert lua.to_py(lua.decode(data)) == (
            "error",
            b"Timeout",
            b"slow",
            ("bool", True),
            {b"a": {1: 1, 2: 2}},
        )

    @pytest.mark.parametrize(
        ("data", "fragment"),
        [
            (b"", "unexpected end of data"),
            (b"\xc1", "unknown format byte 0xc1"),
            (b"\x01\x02", "1 trailing bytes"),
            (b"\xcd\x01", "truncated uint16"),
            (b"\xcb\x00\x00", "truncated float64"),
            (b"\xa5abc", "truncated string"),
            (b"\xdb\xff\xff\xff\xff", "truncated string"),
            (b"\xc4", "truncated length"),
            (b"\x93\x01\x02", "unexpected end of data"),
            (b"\x81\xa1a", "unexpected end of data"),
            (b"\xdd\xff\xff\xff\xff", "unexpected end of data"),
            (b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "does not fit in 64 signed bits"),
            (b"\x81\xcb" + struct.pack(">d", 1.5) + b"\x01", "map key of type float"),
            (b"\x81\xc0\x01", "map key of type nil"),
            (b"\x81\xc3\x01", "map key of type boolean"),
            (b"\x81\x90\x01", "map key of type table"),
            (b"\xd4\x02\x00", "unknown extension type 2"),
            (b"\xc7\x00\x01", "error object is not a map"),
            (b"\xd4\x01\x01", "error object is not a map"),
            (b"\xc7\x03\x01\x81\xa1a", "unexpected end of data"),
            (b"\xc7\x02\x01\x80\xc0", "error object is shorter than its extension"),
            (b"\xd5\x01\x80\xc0", "error object is shorter than its extension"),
            (b"\xc7\x01\x01\x80", "error object has a kind that is not a string"),
            (msgpack.ExtType(1, msgpack.packb({"kind": "K", "message": 1})), "message"),
            (msgpack.ExtType(1, msgpack.packb({"kind": "K", "message": "m", "retryable": 1})),
             "retryable"),
            (msgpack.ExtType(1, msgpack.packb({"kind": "K", "message": "m", "details": 1})),
             "details"),
            (msgpack.ExtType(1, msgpack.packb({"kind": "K", "message": "m", "x": 1})),
             "unknown field x"),
            (msgpack.ExtType(1, b"\x83\xa4kind\xa1K\xa7message\xa1m\xa7details"
                             + msgpack.packb(msgpack.ExtType(1, ERR_MAP16))), "not a plain table"),
            (b"\x91" * (MAX_DEPTH + 1) + b"\x90", "nested deeper than 128"),
        ],
    )  # fmt: skip
    def test_malformed_input_raises(self, lua: Lua, data: Any, fragment: str) -> None:
        if isinstance(data, msgpack.ExtType):
            data = msgpack.packb(data)
        message = lua.decode_fails(data)
        assert message.startswith("malformed msgpack at byte ")
        assert fragment in message

    def test_depth_limit_is_inclusive(self, lua: Lua) -> None:
        assert lua.to_py(lua.decode(b"\x91" * (MAX_DEPTH - 1) + b"\x90")) is not None
        # error (1) > details (2) > d (3 .. 128)
        nested_error = encode(ErrorValue("K", "m", None, {"d": _nest(MAX_DEPTH - 2)}))
        assert lua.E[b"is"](lua.decode(nested_error))
        fields = {"kind": "K", "message": "m", "details": {"d": _nest(MAX_DEPTH - 1)}}
        too_deep = msgpack.packb(msgpack.ExtType(1, msgpack.packb(fields)))
        assert "nested deeper than 128" in lua.decode_fails(too_deep)

    def test_decoder_is_usable_after_a_failure(self, lua: Lua) -> None:
        lua.decode_fails(b"\x93\x01")
        assert lua.decode(b"\x92\x01\x02")[2] == 2

    def test_non_string_input_is_rejected(self, lua: Lua) -> None:
        assert "must be a string" in lua.decode_fails(42)  # type: ignore[arg-type]


def _nest(depth: int) -> Any:
    """`depth` nested lists (depth >= 1) whose innermost one is empty."""
    v: list[Any] = []
    for _ in range(depth - 1):
        v = [v]
    return v


# ---------------------------------------------------------------------------------------------
# copy
# ---------------------------------------------------------------------------------------------


class TestCopy:
    @pytest.mark.parametrize(
        "src",
        [
            "nil", "true", "0", "1.0", "-0.0", "0/0", "math.maxinteger", "'\\xff\\0'", "{}",
            "{1, 2, 3}", "{1, nil, 3}", "{a = {b = {}}, [3] = 1.5, [-1] = false}",
            "E.new('NotFound', 'x', true, {1, {y = 2}})", "E.new('Internal', 'boom')",
            "E.payload({p = E.payload(1)})", "{E.new('A', 'b'), E.payload('s')}",
        ],
    )  # fmt: skip
    def test_copy_equals_decode_of_encode(self, lua: Lua, src: str) -> None:
        v = lua.eval(src)
        c = lua.codec.copy(v)
        assert lua.to_py(c) == lua.to_py(lua.decode(lua.encode(v)))
        assert not lua.g.shares(v, c)

    def test_copies_are_fresh_and_plain(self, lua: Lua) -> None:
        v = lua.eval("{a = {1, 2}, e = E.new('K', 'm', nil, {z = {}}), p = E.payload({q = {}})}")
        c = lua.codec.copy(v)
        assert not lua.g.shares(v, c)
        assert lua.g.E[b"is"](c[b"e"]) and not lua.g.rawequal(c[b"e"], v[b"e"])
        assert lua.g.mt_count(c) == 1  # the fresh error object, nothing else
        assert lua.to_py(c[b"p"]) == {b"q": {}}

    def test_strings_and_numbers_are_returned_as_they_are(self, lua: Lua) -> None:
        assert lua.codec.copy(b"abc") == b"abc"
        assert lua.codec.copy(7) == 7
        assert lua.g.math.type(lua.codec.copy(1.0)) == b"float"


# A generator of Lua value models (see Lua.build), with an optional unsendable leaf.
_scalars = st.one_of(
    st.booleans(),
    st.integers(INT64_MIN, INT64_MAX),
    st.floats(allow_nan=True, allow_infinity=True),
    st.binary(max_size=12),
    st.sampled_from([b"", b"\xff\xfe", "ünï".encode()]),
)
_keys = st.one_of(st.integers(-3, 6), st.integers(INT64_MIN, INT64_MAX), st.binary(max_size=4))


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    arrays = st.lists(children, min_size=1, max_size=5).map(
        lambda xs: {i: x for i, x in enumerate(xs, 1)}
    )
    maps = st.dictionaries(_keys, children, max_size=5)
    errors = st.tuples(
        st.just("error"),
        st.sampled_from([b"NotFound", b"Internal", b"Custom"]),
        st.binary(max_size=6),
        st.sampled_from([None, True, False]),
        st.one_of(st.none(), maps),
    )
    payloads = st.tuples(st.just("payload"), children)
    return st.one_of(arrays, maps, errors, payloads)


_values = st.recursive(_scalars, _containers, max_leaves=20)
_bad_leaves = st.sampled_from(BAD).map(lambda w: ("bad", w))
_bad_keys = st.sampled_from([1.5, True, -0.25])
_maybe_bad = st.recursive(
    st.one_of(_scalars, _bad_leaves),
    lambda ch: st.one_of(
        _containers(ch),
        st.dictionaries(st.one_of(_keys, _bad_keys), ch, min_size=1, max_size=3),
    ),
    max_leaves=12,
)


def _faults(m: Any) -> set[str]:
    """The messages of every problem in a model (an empty set: sendable)."""
    out: set[str] = set()
    if isinstance(m, dict):
        for k, v in m.items():
            if isinstance(k, bool):
                out.add("table keys must be strings or integers (got boolean)")
            elif isinstance(k, float):
                out.add("table keys must be strings or integers (got float)")
            out |= _faults(v)
    elif isinstance(m, tuple):
        if m[0] == "bad":
            out.add(
                {
                    b"function": "value of type function cannot be sent",
                    b"thread": "value of type thread cannot be sent",
                    b"time": "value of type Time cannot be sent",
                    b"plain_mt": "value of type table with a metatable cannot be sent",
                }[m[1]]
            )
        elif m[0] == "error":
            out |= _faults(m[4])
        else:
            out |= _faults(m[1])
    return out


class TestCopyProperties:
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(model=_values)
    def test_copy_is_decode_of_encode(self, lua: Lua, model: Any) -> None:
        box = lua.build(model)
        c = lua.g.copy1(box)
        assert lua.to_py(c) == lua.to_py(lua.decode(lua.g.encode1(box))) == expected(model)
        assert not lua.g.shares(box, c)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(model=_maybe_bad)
    def test_copy_and_encode_reject_the_same_values(self, lua: Lua, model: Any) -> None:
        box = lua.build(model)
        faults = _faults(model)
        c = lua.g.copy1(box)
        e = lua.g.encode1(box)
        if not faults:
            assert lua.to_py(c) == lua.to_py(lua.decode(e))
            return
        assert isinstance(c, tuple) and c[0] is None
        assert isinstance(e, tuple) and e[0] is None
        assert c[1].decode() in faults and e[1].decode() in faults
        if len(faults) == 1:
            assert c[1] == e[1]


# ---------------------------------------------------------------------------------------------
# Python codec and the round trips between Python and Lua
# ---------------------------------------------------------------------------------------------


class TestPythonCodec:
    def test_scalars(self) -> None:
        for v in [None, True, False, 0, -1, INT64_MAX, INT64_MIN, 1.0, -0.0, "é", ""]:
            out = decode(encode(v))
            assert out == v and type(out) is type(v)

    def test_bytes_decode_to_str_when_utf8(self) -> None:
        assert decode(encode(b"abc")) == "abc"
        assert decode(encode(b"\xff\x00")) == b"\xff\x00"
        assert encode(b"abc") == msgpack.packb(b"abc", use_bin_type=True)
        assert encode(bytearray(b"\x01")) == b"\xc4\x01\x01"

    def test_containers(self) -> None:
        assert decode(encode((1, [2, None], {"a": {}}))) == [1, [2, None], {"a": []}]

    def test_empty_dict_is_the_empty_table(self) -> None:
        """Like the Lua encoder, an empty table is written as an empty array."""
        assert encode({}) == encode([]) == b"\x90"
        assert decode(encode({3: "x", "k": b"\xfe"})) == {3: "x", "k": b"\xfe"}

    def test_map_keys_are_sorted_like_lua(self) -> None:
        data = encode({"b": 1, 10: 2, "a": 3, -1: 4, b"\xff": 5, "é": 6})
        pairs = msgpack.unpackb(data, strict_map_key=False, raw=True, object_pairs_hook=list)
        assert [k for k, _ in pairs] == [-1, 10, b"a", b"b", "é".encode(), b"\xff"]

    def test_error_values(self) -> None:
        e = ErrorValue("NotFound", "gone", False, {"id": [1, 2]})
        assert decode(encode(e)) == ErrorValue("NotFound", "gone", False, {"id": [1, 2]})
        assert decode(encode(ErrorValue("X", "m"))) == ErrorValue("X", "m", None, None)

    def test_error_details_are_always_dicts(self) -> None:
        """A Lua details table keyed 1..n (an array) still decodes as a dict."""
        ext = msgpack.ExtType(1, msgpack.packb({"kind": "K", "message": "m", "details": [7, 8]}))
        assert decode(msgpack.packb(ext)) == ErrorValue("K", "m", None, {1: 7, 2: 8})
        empty = msgpack.ExtType(1, msgpack.packb({"kind": "K", "message": "m", "details": []}))
        assert decode(msgpack.packb(empty)).details == {}

    def test_error_value_and_exceptions(self) -> None:
        exc = ErrorValue("NotFound", "gone", True, {"a": 1}).to_exception()
        assert (exc.kind, exc.message, exc.retryable, exc.details) == (
            "NotFound",
            "gone",
            True,
            {"a": 1},
        )
        assert ErrorValue.from_exception(exc) == ErrorValue("NotFound", "gone", True, {"a": 1})

    @pytest.mark.parametrize(
        ("value", "fragment"),
        [
            (2**63, "does not fit"),
            (-(2**63) - 1, "does not fit"),
            ({2**64: 1}, "does not fit"),
            (object(), "value of type object cannot be sent"),
            ({1.5: 1}, "table keys must be strings or integers (got float)"),
            ({True: 1}, "table keys must be strings or integers (got bool)"),
            ({None: 1}, "table keys must be strings or integers (got NoneType)"),
            (_nest(MAX_DEPTH + 1), "nested deeper than 128"),
            ("\ud800", "not encodable as UTF-8"),
            (ErrorValue("K", "m", None, [1]), "details that are not a table"),  # type: ignore[arg-type]
            (ErrorValue("K", 1), "string kind and a string message"),  # type: ignore[arg-type]
        ],
    )
    def test_encode_rejects(self, value: Any, fragment: str) -> None:
        with pytest.raises(InvalidError, match=re.escape(fragment)):
            encode(value)

    def test_cycles_are_rejected(self) -> None:
        a: list[Any] = []
        a.append(a)
        with pytest.raises(InvalidError, match="contains itself"):
            encode(a)

    def test_depth_limit(self) -> None:
        assert encode(_nest(MAX_DEPTH))
        assert encode(ErrorValue("K", "m", None, {"d": _nest(MAX_DEPTH - 2)}))

    @pytest.mark.parametrize(
        "data",
        [
            b"",
            b"\xc1",
            b"\x01\x02",
            b"\x93\x01",
            msgpack.packb(msgpack.ExtType(2, b"")),
            msgpack.packb(msgpack.ExtType(1, b"\x01")),
            msgpack.packb(msgpack.ExtType(1, msgpack.packb({"kind": 1, "message": "m"}))),
            msgpack.packb(msgpack.ExtType(1, msgpack.packb({"kind": "K", "message": "m", "z": 1}))),
            b"\x81\x91\x01\x01",  # a list as a map key
        ],
    )
    def test_decode_rejects_malformed_data(self, data: bytes) -> None:
        with pytest.raises(InvalidError, match="malformed payload"):
            decode(data)


_py_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(INT64_MIN, INT64_MAX),
        st.floats(allow_nan=False),
        st.text(max_size=8),
        st.binary(max_size=8),
    ),
    lambda ch: st.one_of(
        st.lists(ch, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers(-5, 5)), ch, max_size=4),
        st.builds(
            ErrorValue,
            st.sampled_from(["NotFound", "Custom"]),
            st.text(max_size=5),
            st.sampled_from([None, True, False]),
            st.one_of(st.none(), st.dictionaries(st.text(max_size=3), ch, max_size=3)),
        ),
    ),
    max_leaves=15,
)


def as_lua_sees_it(v: Any) -> Any:
    """What a Python value becomes after a trip through a Lua table (and back to Python)."""
    if isinstance(v, bytes):
        try:
            return v.decode()
        except UnicodeDecodeError:
            return v
    if isinstance(v, ErrorValue):
        details = None if v.details is None else _as_dict(as_lua_sees_it(v.details))
        return ErrorValue(v.kind, v.message, v.retryable, details)
    if isinstance(v, list | dict):
        table = {
            k: as_lua_sees_it(x)
            for k, x in (enumerate(v, 1) if isinstance(v, list) else v.items())
            if x is not None
        }
        if not table:
            return []
        if all(isinstance(k, int) for k in table) and sorted(table) == list(
            range(1, len(table) + 1)
        ):
            return [table[i] for i in range(1, len(table) + 1)]
        return table
    return v


def _as_dict(v: Any) -> Any:
    return {i: x for i, x in enumerate(v, 1)} if isinstance(v, list) else v


class TestRoundTrips:
    @settings(max_examples=300, deadline=None)
    @given(value=_py_values)
    def test_python_lua_python(self, lua: Lua, value: Any) -> None:
        """Python -> msgpack -> Lua -> msgpack -> Python keeps every value as Lua sees it."""
        data = lua.encode(lua.decode(encode(value)))
        assert decode(data) == as_lua_sees_it(value)
        # Both encoders write identical bytes for the same Lua value.
        assert encode(decode(data)) == data

    def test_lua_python_lua(self, lua: Lua) -> None:
        v = lua.eval(
            "{1.0, 2, 'x', '\\xff\\0', {}, {a = {true, false}}, [7] = -1,"
            " e = E.new('NotFound', 'no', true, {k = {1, 2}}), big = math.mininteger}"
        )
        data = lua.encode(v)
        py = decode(data)
        assert py == {
            1: 1.0, 2: 2, 3: "x", 4: b"\xff\x00", 5: [], 6: {"a": [True, False]}, 7: -1,
            "e": ErrorValue("NotFound", "no", True, {"k": [1, 2]}), "big": INT64_MIN,
        }  # fmt: skip
        assert isinstance(py[1], float)
        back = lua.decode(encode(py))
        assert lua.to_py(back) == lua.to_py(v)
        assert lua.g.math.type(back[1]) == b"float"


# ---------------------------------------------------------------------------------------------
# CLI JSON
# ---------------------------------------------------------------------------------------------


class TestToJsonText:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (None, "null"),
            (True, "true"),
            (42, "42"),
            (INT64_MIN, "-9223372036854775808"),
            (2.0, "2.0"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1e300, "1e+300"),
            (math.nan, "null"),
            (math.inf, "null"),
            ('é\n"', '"é\\n\\""'),
            (b"ok", '"ok"'),
            ([], "{}"),
            ({}, "{}"),
            ([1, "a", [2.5]], '[1,"a",[2.5]]'),
            ({"b": 1, "a": [], 10: 2, -1: 3}, '{"-1":3,"10":2,"a":{},"b":1}'),
            ({2: "x", 1: "y"}, '["y","x"]'),
            ([1, None, 3], '{"1":1,"3":3}'),
            ([1, 2, None], "[1,2]"),
            ({"a": None}, "{}"),
            ({"z": 1, "é": 2, "Z": 3}, '{"Z":3,"z":1,"é":2}'),
            (
                ErrorValue("NotFound", "gone", True, {"x": 1}),
                '{"kind":"NotFound","message":"gone"}',
            ),
            ({"error": ErrorValue("K", "m")}, '{"error":{"kind":"K","message":"m"}}'),
            ("{local@app:p|0x00001}", '"{local@app:p|0x00001}"'),
        ],
    )
    def test_rendering(self, value: Any, text: str) -> None:
        assert to_json_text(value) == text

    @pytest.mark.parametrize("value", [b"\xff", [b"a", {"k": b"\xc3"}], {b"\xfe": 1}])
    def test_binary_strings_are_invalid(self, value: Any) -> None:
        with pytest.raises(InvalidError, match="binary string that is not valid UTF-8"):
            to_json_text(value)

    def test_unknown_python_objects_are_invalid(self) -> None:
        with pytest.raises(InvalidError):
            to_json_text(object())

    def test_rendering_of_a_lua_result(self, lua: Lua) -> None:
        v = lua.eval("{n = 2.0, list = {1, 2}, empty = {}, [3] = 'x'}")
        assert to_json_text(decode(lua.encode(v))) == '{"3":"x","empty":{},"list":[1,2],"n":2.0}'


class TestFromJsonText:
    def test_values(self) -> None:
        assert from_json_text('[1, 1.0, 1e2, "x", null, {"a": true}]') == [
            1, 1.0, 100.0, "x", None, {"a": True},
        ]  # fmt: skip
        assert isinstance(from_json_text("1.0"), float)

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ('{"a": }', "line 1 column 7"),
            ("", "line 1 column 1"),
            ("[1,\n 2", "line 2 column 3"),
            ("NaN", "NaN is not valid JSON"),
            ("[Infinity]", "Infinity is not valid JSON"),
        ],
    )
    def test_bad_json_is_a_usage_error(self, text: str, fragment: str) -> None:
        with pytest.raises(UsageError, match=fragment):
            from_json_text(text)

    def test_source_prefixes_the_message(self) -> None:
        with pytest.raises(UsageError, match=r"^--input: invalid JSON"):
            from_json_text("{", source="--input")
