"""Unit tests of modules/json.lua against a tiny fake kernel written in Lua.

Expected texts come from the rules of docs/reference/lua-modules.md, "json" and, for round trips,
from Python's own
``json`` module, not from the module under test.
"""

from __future__ import annotations

import json
import math
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lupa import lua54

JSON_LUA = Path(__file__).resolve().parents[2] / "modules" / "json.lua"

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

FAKE_KERNEL = rb"""
local K = {}
local ErrMT = {__metatable = "error", __name = "error"}
ErrMT.__index = {
  kind = function(e) return e._kind end,
  message = function(e) return e._message end,
  retryable = function(e) return e._retryable end,
}
function K.error(kind, message, retryable, details)
  return setmetatable({_kind = kind, _message = message, _retryable = retryable,
                       _details = details}, ErrMT)
end
function K.is_error(v) return debug.getmetatable(v) == ErrMT end
function K.invalid(message) error(K.error("Invalid", message, false), 0) end
-- the codec's bytewise order; nil: plain `<` is bytewise (the "C" collation Python keeps)
K.codec = {bytewise_lt = nil}
return K
"""

HELPERS = rb"""
local json, K = ...
-- enc(v) -> "ok", text | kind, message
function enc(v)
  local s, err = json.encode(v)
  if err ~= nil then return err:kind(), err:message() end
  assert(type(s) == "string")
  return "ok", s
end
-- dec(s) -> "ok", value | kind, message
function dec(s)
  local v, err = json.decode(s)
  if err ~= nil then return err:kind(), err:message() end
  return "ok", v
end
function mtype(v) return math.type(v) end
function err_obj() return K.error("Internal", "x") end
"""


class Lua:
    """A bare Lua runtime with the json module loaded."""

    def __init__(self) -> None:
        self.rt = lua54.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            encoding=None,
            unpack_returned_tuples=True,
        )
        kernel = self.rt.execute(FAKE_KERNEL)
        self.json = self.rt.execute(JSON_LUA.read_bytes(), kernel, self.rt.table())
        self.rt.execute(HELPERS, self.json, kernel)
        self.g = self.rt.globals()

    def eval(self, src: str) -> Any:
        return self.rt.eval(src.encode())

    def encode(self, src: str) -> str:
        """The JSON text of the Lua value of `src` (the call must succeed)."""
        status, text = self.rt.execute(f"return enc({src})".encode())
        assert status == b"ok", text
        return text.decode()

    def encode_fails(self, src: str) -> tuple[str, str]:
        kind, message = self.rt.execute(f"return enc({src})".encode())
        assert kind != b"ok", message
        return kind.decode(), message.decode()

    def decode(self, text: str | bytes) -> Any:
        raw = text.encode() if isinstance(text, str) else text
        status, value = self.g.dec(raw)
        assert status == b"ok", value
        return value

    def decode_fails(self, value: Any) -> tuple[str, str]:
        if isinstance(value, str):
            value = value.encode()
        kind, message = self.g.dec(value)
        assert kind != b"ok", message
        return kind.decode(), message.decode()

    def to_py(self, v: Any) -> Any:
        """Lua value -> Python; tables become dicts, floats are tagged to keep 1 and 1.0 apart."""
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, float):
            return ("float", v)
        if isinstance(v, bytes):
            return v.decode()
        if lua54.lua_type(v) == "table":
            return {self.to_py(k): self.to_py(x) for k, x in v.items()}
        return v


@pytest.fixture(scope="module")
def lua() -> Lua:
    return Lua()


class TestEncode:
    @pytest.mark.parametrize(
        ("src", "text"),
        [
            ("nil", "null"),
            ("", "null"),
            ("true", "true"),
            ("false", "false"),
            ("0", "0"),
            ("-17", "-17"),
            ("math.maxinteger", str(INT64_MAX)),
            ("math.mininteger", str(INT64_MIN)),
            ("2.0", "2.0"),
            ("-0.0", "-0.0"),
            ("0.1", "0.1"),
            ("1/3", "0.3333333333333333"),
            ("1e300", "1e+300"),
            ("2^63", "9.223372036854776e+18"),
            ("1e15", "1e+15"),
            ("123456.0", "123456.0"),
            ("0/0", "null"),
            ("math.huge", "null"),
            ("-math.huge", "null"),
            ("'abc'", '"abc"'),
            ("''", '""'),
            ("'é ✓ 😀'", '"é ✓ 😀"'),
            ("'a\"b\\\\c'", '"a\\"b\\\\c"'),
            ("'\\b\\f\\n\\r\\t'", '"\\b\\f\\n\\r\\t"'),
            ("'\\0\\1\\31\\127'", '"\\u0000\\u0001\\u001f\x7f"'),
            ("'/'", '"/"'),
            ("{}", "[]"),
            ("{1, 2, 3}", "[1,2,3]"),
            ("{1, 'a', {true}, {}}", '[1,"a",[true],[]]'),
            ("{b = 1, a = 2, B = 3, ['é'] = 4, [''] = 5}", '{"":5,"B":3,"a":2,"b":1,"é":4}'),
            ("{x = {y = {z = 0.5}}}", '{"x":{"y":{"z":0.5}}}'),
            ("{['a\\nb'] = 1}", '{"a\\nb":1}'),
            ("setmetatable({1, 2}, {__index = {}})", "[1,2]"),
        ],
    )
    def test_rules(self, lua: Lua, src: str, text: str) -> None:
        assert lua.encode(src) == text

    def test_shared_tables_are_not_cycles(self, lua: Lua) -> None:
        assert lua.encode("(function() local a = {1} return {a, a, {k = a}} end)()") == (
            '[[1],[1],{"k":[1]}]'
        )

    def test_keys_are_sorted_whatever_the_insertion_order(self, lua: Lua) -> None:
        a = lua.encode(
            "(function() local t = {} for i = 1, 100 do t['k' .. i] = i end return t end)()"
        )
        b = lua.encode(
            "(function() local t = {} for i = 100, 1, -1 do t['k' .. i] = i end return t end)()"
        )
        assert a == b
        assert list(json.loads(a)) == sorted(f"k{i}" for i in range(1, 101))

    def test_depth_limit_is_inclusive(self, lua: Lua) -> None:
        assert lua.encode("{" * 128 + "}" * 128) == "[" * 127 + "[]" + "]" * 127

    @pytest.mark.parametrize(
        ("src", "fragment"),
        [
            ("{1, nil, 3}", "sparse array"),
            ("{[2] = 1}", "sparse array"),
            ("{[0] = 1}", "sparse array"),
            ("{1, 2, x = 3}", "both string and integer keys"),
            ("{[1.5] = 1}", "table key of type float"),
            ("{[true] = 1}", "table key of type boolean"),
            ("{[{}] = 1}", "table key of type table"),
            ("print", "value of type function"),
            ("{f = print}", "value of type function"),
            ("coroutine.create(print)", "value of type thread"),
            ("err_obj()", "value of type error"),
            ("setmetatable({}, {__metatable = 'x', __name = 'Time'})", "value of type Time"),
            ("'\\xff'", "not valid UTF-8"),
            ("{['\\xff'] = 1}", "not valid UTF-8"),
            ("(function() local t = {} t[1] = t return t end)()", "contains itself"),
            ("(function() local t = {} t.a = {b = t} return t end)()", "contains itself"),
            ("{" * 129 + "}" * 129, "nested deeper than 128 levels"),
        ],
    )
    def test_errors_are_internal(self, lua: Lua, src: str, fragment: str) -> None:
        kind, message = lua.encode_fails(src)
        assert kind == "Internal"
        assert message.startswith("json.encode: ")
        assert fragment in message

    def test_module_is_usable_after_a_failure(self, lua: Lua) -> None:
        lua.encode_fails("(function() local t = {} t[1] = t return t end)()")
        assert lua.encode("{a = {1}}") == '{"a":[1]}'

    @settings(max_examples=500, deadline=None)
    @given(x=st.floats(allow_nan=False, allow_infinity=False))
    def test_floats_read_back_exactly_and_stay_floats(self, lua: Lua, x: float) -> None:
        text = lua.encode(f"string.unpack('<d', {_lua_bytes(_pack_double(x))})")
        parsed = json.loads(text)
        assert isinstance(parsed, float)
        assert parsed == x and math.copysign(1, parsed) == math.copysign(1, x)
        if x == 0 or abs(x) >= sys.float_info.min:  # subnormals get 15 digits, not the fewest
            assert len(text) <= len(repr(x)) + 2  # "e+15" may replace "0.0"


def _pack_double(x: float) -> bytes:
    return struct.pack("<d", x)


def _lua_bytes(raw: bytes) -> str:
    return "'" + "".join(f"\\{b}" for b in raw) + "'"


class TestDecode:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("null", None),
            ("true", True),
            (" false ", False),
            ("0", 0),
            ("-0", 0),
            ("42", 42),
            ("-42", -42),
            (str(INT64_MAX), INT64_MAX),
            (str(INT64_MIN), INT64_MIN),
            ("1.0", ("float", 1.0)),
            ("-0.0", ("float", -0.0)),
            ("1e2", ("float", 100.0)),
            ("1E+2", ("float", 100.0)),
            ("2.5e-3", ("float", 0.0025)),
            (str(INT64_MAX + 1), ("float", float(INT64_MAX + 1))),
            (str(INT64_MIN - 1), ("float", float(INT64_MIN - 1))),
            ("1e400", ("float", math.inf)),
            ('"abc"', "abc"),
            ('""', ""),
            ('"é ✓"', "é ✓"),
            ('"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\/\b\f\n\r\t'),
            ('"\\u0041\\u00e9\\u2713"', "Aé✓"),
            ('"\\u0000"', "\x00"),
            ('"\\ud83d\\ude00"', "😀"),
            ('"\\uD83D\\uDE00x"', "😀x"),
            ("[]", {}),
            ("{}", {}),
            ("[1, 2.5, \"x\"]", {1: 1, 2: ("float", 2.5), 3: "x"}),
            ("[1, null, 3]", {1: 1, 3: 3}),
            ("[null]", {}),
            ('{"a": 1, "b": null, "c": [true]}', {"a": 1, "c": {1: True}}),
            ('{"a": 1, "a": 2}', {"a": 2}),
            (' \t\r\n{ "a" : [ 1 , 2 ] } \n', {"a": {1: 1, 2: 2}}),
            ('{"1": "x"}', {"1": "x"}),
        ],
    )  # fmt: skip
    def test_rules(self, lua: Lua, text: str, expected: Any) -> None:
        assert lua.to_py(lua.decode(text)) == expected

    def test_integers_are_lua_integers(self, lua: Lua) -> None:
        assert lua.g.mtype(lua.decode("7")) == b"integer"
        assert lua.g.mtype(lua.decode("7.0")) == b"float"
        assert lua.g.mtype(lua.decode("9223372036854775808")) == b"float"

    def test_depth_limit_is_inclusive(self, lua: Lua) -> None:
        assert lua.decode("[" * 128 + "]" * 128) is not None
        assert lua.decode_fails("[" * 129 + "]" * 129) == (
            "Internal",
            "json.decode: value is nested deeper than 128 levels at position 129",
        )

    @pytest.mark.parametrize("value", [None, 42, True])
    def test_non_strings_are_invalid(self, lua: Lua, value: Any) -> None:
        kind, message = lua.decode_fails(value)
        assert kind == "Invalid" and "expected a string" in message

    def test_a_table_is_invalid(self, lua: Lua) -> None:
        kind, _ = lua.decode_fails(lua.rt.table())
        assert kind == "Invalid"

    def test_empty_string_is_invalid(self, lua: Lua) -> None:
        assert lua.decode_fails("") == ("Invalid", "json.decode: empty string")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (" ", "unexpected end of input at position 2"),
            ("nul", "unexpected character 'n' at position 1"),
            ("True", "unexpected character 'T' at position 1"),
            ("[1,]", "unexpected character ']' at position 4"),
            ('{"a":1,}', "unexpected character '}', expected a string key at position 8"),
            ("[1 2]", "unexpected character '2', expected ',' or ']' at position 4"),
            ('{"a" 1}', "unexpected character '1', expected ':' at position 6"),
            ('{"a":1 "b":2}', "unexpected character '\"', expected ',' or '}' at position 8"),
            ("{a:1}", "unexpected character 'a', expected a string key at position 2"),
            ("[1", "unexpected end of input at position 3"),
            ('{"a":1', "unexpected end of input at position 7"),
            ("01", "unexpected character '1' after the value at position 2"),
            ("1.", "digit expected after '.' at position 3"),
            (".5", "unexpected character '.' at position 1"),
            ("+1", "unexpected character '+' at position 1"),
            ("-", "unexpected end of input at position 2"),
            ("1e", "digit expected in exponent at position 3"),
            ("NaN", "unexpected character 'N' at position 1"),
            ("Infinity", "unexpected character 'I' at position 1"),
            ("1 2", "unexpected character '2' after the value at position 3"),
            ('"abc', "unterminated string at position 1"),
            ('"a\nb"', "control character in string at position 3"),
            ('"\\x"', "bad escape in string at position 2"),
            ('"\\u12"', "bad \\u escape at position 4"),
            ('"\\ud800"', "lone surrogate in \\u escape at position 2"),
            ('"\\ud800\\u0041"', "lone surrogate in \\u escape at position 2"),
            ('"\\udc00"', "lone surrogate in \\u escape at position 2"),
            (b'"\xff"', "invalid UTF-8 at position 2"),
            ("// c\n1", "unexpected character '/' at position 1"),
            ("\x00", "unexpected byte 0x00 at position 1"),
        ],
    )
    def test_malformed_json_is_internal(self, lua: Lua, text: str | bytes, message: str) -> None:
        assert lua.decode_fails(text) == ("Internal", "json.decode: " + message)

    def test_module_is_usable_after_a_failure(self, lua: Lua) -> None:
        lua.decode_fails('{"a": [1, }')
        assert lua.to_py(lua.decode('{"a": [1]}')) == {"a": {1: 1}}


_json_values = st.recursive(
    st.one_of(
        st.booleans(),
        st.integers(INT64_MIN, INT64_MAX),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    ),
    lambda ch: st.one_of(
        st.lists(ch, min_size=1, max_size=5),
        st.dictionaries(st.text(max_size=5), ch, min_size=1, max_size=5),
    ),
    max_leaves=20,
)


def _tagged(v: Any) -> Any:
    """The shape `Lua.to_py` gives for the Lua value of a JSON value."""
    if isinstance(v, float):
        return ("float", v)
    if isinstance(v, list):
        return {i: _tagged(x) for i, x in enumerate(v, 1)}
    if isinstance(v, dict):
        return {k: _tagged(x) for k, x in v.items()}
    return v


class TestRoundTrips:
    @settings(max_examples=300, deadline=None)
    @given(value=_json_values)
    def test_python_text_decodes_to_the_same_value(self, lua: Lua, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=bool(len(str(value)) % 2))
        assert lua.to_py(lua.decode(text)) == _tagged(value)

    @settings(max_examples=300, deadline=None)
    @given(value=_json_values)
    def test_encode_of_decode_is_canonical(self, lua: Lua, value: Any) -> None:
        """decode then encode gives compact JSON with sorted keys that reads back as the value."""
        status, text = lua.g.enc(lua.decode(json.dumps(value)))
        assert status == b"ok", text
        parsed = json.loads(text)
        assert _tagged(parsed) == _tagged(value)
        if not _has_floats(value):  # Python spells some floats differently (1e15 vs 1e+15)
            assert text.decode() == json.dumps(
                value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )


def _has_floats(v: Any) -> bool:
    if isinstance(v, float):
        return True
    if isinstance(v, list):
        return any(_has_floats(x) for x in v)
    if isinstance(v, dict):
        return any(_has_floats(x) for x in v.values())
    return False


class TestUnsupported:
    @pytest.mark.parametrize("name", ["validate", "validate_string"])
    def test_extended_functions_raise_invalid(self, lua: Lua, name: str) -> None:
        ok, err = lua.g.pcall(lua.json[name.encode()], lua.rt.table(), b"{}")
        assert ok is False
        assert lua.rt.eval(b"function(e) return e:kind() end")(err) == b"Invalid"
