"""Unit tests of modules/time.lua against a tiny fake kernel and host written in Lua.

The expected values come from Python ports of Go's documented algorithms (``time.ParseDuration``
and ``Duration.String``) and from ``datetime`` for RFC 3339, not from the module under test.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lupa import lua54

MODULES = Path(__file__).resolve().parents[2] / "modules"
RUNTIME_LUA = Path(__file__).resolve().parents[2] / "runtime" / "lua"

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
SECOND = 10**9
CLOCK = 1_700_000_000_123_456_789  # the fake host's fixed H.now()

# Just enough kernel and host for the module's pure logic; the integration tests use the real ones.
FAKE_KERNEL = r"""
local K, H = {}, {}
local ErrMT = {}
ErrMT.__index = {
  kind = function(e) return e._kind end,
  message = function(e) return e._message end,
  retryable = function(e) return e._retryable end,
}
ErrMT.__tostring = function(e) return e._message end
function K.error(kind, message, retryable, details)
  return setmetatable({_kind = kind, _message = message, _retryable = retryable,
                       _details = details}, ErrMT)
end
function K.is_error(v) return getmetatable(v) == ErrMT end
function K.invalid(message) error(K.error("Invalid", message, false), 0) end

local ChMT = {}
ChMT.__index = ChMT
function K.new_channel(size)
  return setmetatable({size = size, buf = {}, closed = false}, ChMT)
end
function ChMT:send(v)
  assert(not self.closed and #self.buf < self.size, "fake channel would block")
  self.buf[#self.buf + 1] = v
  return true
end
function ChMT:receive()
  if #self.buf > 0 then return table.remove(self.buf, 1), true end
  assert(self.closed, "fake channel would block")
  return nil, false
end
function ChMT:close() self.closed = true end

H.clock = CLOCK
H.slept, H.timers = {}, {}
function H.now() return H.clock end
function H.sleep(ns) H.slept[#H.slept + 1] = ns end
function H.timer(ns, map)
  H.timers[#H.timers + 1] = ns
  local ch = K.new_channel(1)
  ch:send(map(H.clock + ns))
  ch:close()
  return ch
end

-- try(f, ...) -> "ok", results... | kind, message (raised error object) | "raw", text
function try(f, ...)
  local r = table.pack(pcall(f, ...))
  if r[1] then return "ok", table.unpack(r, 2, r.n) end
  if K.is_error(r[2]) then return r[2]:kind(), r[2]:message() end
  return "raw", tostring(r[2])
end

-- err(v, e) -> kind and message of a returned error, or "ok" and tostring(v)
function err(v, e)
  if e ~= nil then return e:kind(), e:message() end
  return "ok", tostring(v)
end
return K, H
"""


def _py(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, tuple):
        return tuple(_py(v) for v in value)
    return value


class Lua:
    """A bare Lua 5.4 state with the fake K/H and `time` loaded as globals."""

    def __init__(self) -> None:
        self.rt = lua54.LuaRuntime(
            register_eval=False, register_builtins=False, encoding=None, unpack_returned_tuples=True
        )
        kernel = FAKE_KERNEL.replace("CLOCK", str(CLOCK))
        k, h = self.rt.execute(kernel.encode())
        g = self.rt.globals()
        g.K, g.H = k, h
        durations = (RUNTIME_LUA / "durations.lua").read_bytes()  # K.parse_duration
        self.rt.execute(b"assert(load(..., '@durations.lua', 't'))(K)", durations)
        source = (MODULES / "time.lua").read_bytes()
        g.time = self.rt.execute(b"return assert(load(..., '@time.lua', 't'))(K, H)", source)

    def run(self, code: str, *args: Any) -> Any:
        """Runs `code` (a chunk body) and returns its results, with bytes decoded."""
        args = tuple(a.encode() if isinstance(a, str) else a for a in args)
        return _py(self.rt.execute(code.encode(), *args))

    def ev(self, expr: str, *args: Any) -> Any:
        """Evaluates one Lua expression; `...` are the extra arguments."""
        return self.run("return " + expr, *args)


@pytest.fixture(scope="module")
def lua() -> Lua:
    return Lua()


# --- Reference implementations (ports of Go's documented algorithms) ----------------------------


def go_duration_string(d: int) -> str:
    """Go's Duration.String, digit by digit as in the Go source's fmtFrac/fmtInt."""
    if d == 0:
        return "0s"
    neg, u = d < 0, abs(d)

    def frac(v: int, prec: int) -> tuple[str, int]:
        out, printing = "", False
        for _ in range(prec):
            digit = v % 10
            printing = printing or digit != 0
            if printing:
                out = str(digit) + out
            v //= 10
        return ("." + out if printing else ""), v

    if u < SECOND:
        if u < 1000:
            prec, unit = 0, "ns"
        elif u < 10**6:
            prec, unit = 3, "\u00b5s"
        else:
            prec, unit = 6, "ms"
        f, v = frac(u, prec)
        text = f"{v}{f}{unit}"
    else:
        f, v = frac(u, 9)
        text = f"{v % 60}{f}s"
        v //= 60
        if v > 0:
            text = f"{v % 60}m{text}"
            v //= 60
            if v > 0:
                text = f"{v}h{text}"
    return ("-" if neg else "") + text


GO_UNITS = {
    b"ns": 1,
    b"us": 1000,
    "\u00b5s".encode(): 1000,
    "\u03bcs".encode(): 1000,
    b"ms": 10**6,
    b"s": SECOND,
    b"m": 60 * SECOND,
    b"h": 3600 * SECOND,
}


def go_parse_duration(text: bytes) -> int | None:
    """Go's time.ParseDuration on bytes; None where Go reports an error (or its uint64 wraps)."""
    s = text
    neg = False
    if s[:1] in (b"-", b"+"):
        neg, s = s[:1] == b"-", s[1:]
    if s == b"0":
        return 0
    if not s:
        return None
    d = 0
    digits = b"0123456789"
    while s:
        if not (s[:1] == b"." or s[:1] in [bytes([c]) for c in digits]):
            return None
        i = 0
        v = 0
        while i < len(s) and s[i] in digits:
            v = v * 10 + s[i] - 48
            if v > 2**63:
                return None
            i += 1
        pre = i > 0
        s = s[i:]
        f, scale, post = 0, 1.0, False
        if s[:1] == b".":
            s = s[1:]
            i, overflow = 0, False
            while i < len(s) and s[i] in digits:
                if not overflow:
                    y = f * 10 + s[i] - 48
                    if f > (2**63 - 1) // 10 or y > 2**63:
                        overflow = True
                    else:
                        f, scale = y, scale * 10
                i += 1
            post = i > 0
            s = s[i:]
        if not pre and not post:
            return None
        i = 0
        while i < len(s) and s[i] not in b".0123456789":
            i += 1
        if i == 0:
            return None
        unit = GO_UNITS.get(s[:i])
        if unit is None:
            return None
        s = s[i:]
        if v > 2**63 // unit:
            return None
        v *= unit
        if f > 0:
            v += int(float(f) * (float(unit) / scale))
            if v > 2**63:
                return None
        d += v
        if d > 2**63:
            return None
    if neg:
        return -d
    return d if d <= INT64_MAX else None


def rfc3339(ns: int, nano: bool = True) -> str:
    sec, frac = divmod(ns, SECOND)
    moment = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=sec)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")  # years 1677..2262 only
    if nano and frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


# --- Constants ---------------------------------------------------------------------------------


class TestConstants:
    def test_constants_are_integer_nanoseconds(self, lua: Lua) -> None:
        """The unit constants are Lua integers in nanoseconds."""
        names = ["NANOSECOND", "MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR"]
        values = [1, 1000, 10**6, 10**9, 60 * 10**9, 3600 * 10**9]
        for name, value in zip(names, values, strict=True):
            assert lua.ev(f"math.type(time.{name}), time.{name}") == ("integer", value)


# --- Parsing -----------------------------------------------------------------------------------

VALID = {
    "0": 0,
    "-0": 0,
    "+0": 0,
    "5s": 5 * SECOND,
    "30s": 30 * SECOND,
    "1478s": 1478 * SECOND,
    "-5s": -5 * SECOND,
    "+5s": 5 * SECOND,
    "-0s": 0,
    "+0s": 0,
    "5.0s": 5 * SECOND,
    "5.6s": 5 * SECOND + 600_000_000,
    "5.s": 5 * SECOND,
    ".5s": SECOND // 2,
    "1.0s": SECOND,
    "1.00s": SECOND,
    "1.004s": SECOND + 4_000_000,
    "1.0040s": SECOND + 4_000_000,
    "100.00100s": 100 * SECOND + 1_000_000,
    "10ns": 10,
    "11us": 11_000,
    "12\u00b5s": 12_000,
    "12\u03bcs": 12_000,
    "13ms": 13_000_000,
    "14s": 14 * SECOND,
    "15m": 15 * 60 * SECOND,
    "16h": 16 * 3600 * SECOND,
    "3h30m": (3 * 3600 + 30 * 60) * SECOND,
    "1h30m": 5400 * SECOND,
    "250ms": 250_000_000,
    "1.5h": 5400 * SECOND,
    "-1s": -SECOND,
    "10.5s4m": 4 * 60 * SECOND + 10 * SECOND + SECOND // 2,
    "-2m3.4s": -(2 * 60 * SECOND + 3 * SECOND + 400_000_000),
    "1h2m3s4ms5us6ns": 3600 * SECOND + 120 * SECOND + 3 * SECOND + 4_000_000 + 5000 + 6,
    "39h9m14.425s": (39 * 3600 + 9 * 60 + 14) * SECOND + 425_000_000,
    "52763797000ns": 52_763_797_000,
    "0.3333333333333333333h": 20 * 60 * SECOND,
    "9007199254740993ns": 9_007_199_254_740_993,
    "9223372036854775807ns": INT64_MAX,
    "9223372036854775.807us": INT64_MAX,
    "9223372036s854ms775us807ns": INT64_MAX,
    "-9223372036854775808ns": INT64_MIN,
    "-9223372036854775.808us": INT64_MIN,
    "-9223372036s854ms775us808ns": INT64_MIN,
    "-2562047h47m16.854775808s": INT64_MIN,
    "0.100000000000000000000h": 6 * 60 * SECOND,
    "0.830103483285477580700h": 49 * 60 * SECOND + 48 * SECOND + 372_539_827,
}

INVALID = [
    "",
    "3",
    "-",
    "+",
    "s",
    ".",
    "-.",
    ".s",
    "+.s",
    "1d",
    "1.1.1s",
    "00",
    "0.0",
    "1 s",
    " 1s",
    "1s ",
    "1S",
    "1sec",
    "\u00b5s",
    "1\u00b5",
    "9223372036854775808ns",
    "-9223372036854775809ns",
    "9223372036854775.808us",
    "9223372036854ms775us808ns",
    "3000000h",
    "18446744073709551616ns",
    "9223372036854775808ns9223372036854775808ns",
    "-9223372036854775808ns1ns",
]


class TestParseDuration:
    @pytest.mark.parametrize(("text", "ns"), list(VALID.items()))
    def test_valid_strings_parse_like_go(self, lua: Lua, text: str, ns: int) -> None:
        """Valid Go duration strings give the same nanoseconds as Go's ParseDuration."""
        assert go_parse_duration(text.encode()) == ns
        assert lua.ev("time.parse_duration(...):nanoseconds()", text) == ns

    @pytest.mark.parametrize("text", INVALID)
    def test_invalid_strings_return_invalid(self, lua: Lua, text: str) -> None:
        """Invalid strings (bad syntax, unknown unit, overflow) return nil and an Invalid error."""
        assert go_parse_duration(text.encode()) is None
        value, kind, message = lua.run(
            "local v, e = time.parse_duration(...) return v, e:kind(), e:message()", text
        )
        assert value is None
        assert kind == "Invalid"
        assert text in message

    def test_error_messages_name_the_problem(self, lua: Lua) -> None:
        """Error messages follow Go's wording: missing unit, unknown unit, invalid duration."""
        assert lua.ev("err(time.parse_duration('3'))") == (
            "Invalid",
            'time: missing unit in duration "3"',
        )
        assert lua.ev("err(time.parse_duration('3d'))") == (
            "Invalid",
            'time: unknown unit "d" in duration "3d"',
        )
        assert lua.ev("err(time.parse_duration('x'))") == ("Invalid", 'time: invalid duration "x"')

    def test_returned_errors_are_not_retryable(self, lua: Lua) -> None:
        """Argument errors are marked non-retryable."""
        assert lua.ev("select(2, time.parse_duration('bad')):retryable()") is False

    @pytest.mark.parametrize(
        ("expr", "ns"),
        [
            ("1500", 1500),
            ("-1500", -1500),
            ("1.9", 1),
            ("-1.9", -1),
            ("2.0", 2),
            ("1e9", SECOND),
            ("0.5", 0),
            ("-2^63", INT64_MIN),
            ("math.maxinteger", INT64_MAX),
            ("math.mininteger", INT64_MIN),
            ("100 * time.MILLISECOND", 100_000_000),
        ],
    )
    def test_numbers_are_nanoseconds_and_floats_truncate(
        self, lua: Lua, expr: str, ns: int
    ) -> None:
        """A number is nanoseconds; floats are truncated toward zero."""
        assert lua.ev(f"math.type(time.parse_duration({expr}):nanoseconds())") == "integer"
        assert lua.ev(f"time.parse_duration({expr}):nanoseconds()") == ns

    @pytest.mark.parametrize("expr", ["0/0", "1/0", "-1/0", "2^63", "-2^64", "1e300"])
    def test_unrepresentable_numbers_return_invalid(self, lua: Lua, expr: str) -> None:
        """NaN, infinities and floats beyond int64 return an Invalid error."""
        assert lua.ev(f"err(time.parse_duration({expr}))")[0] == "Invalid"

    def test_a_duration_is_returned_as_is(self, lua: Lua) -> None:
        """A Duration argument is accepted (and, being immutable, returned unchanged)."""
        assert lua.run(
            "local d = time.parse_duration('1s') return rawequal(time.parse_duration(d), d)"
        )

    @pytest.mark.parametrize("expr", ["true", "{}", "time.now()", "print", "nil"])
    def test_other_types_are_raised(self, lua: Lua, expr: str) -> None:
        """A value that is no duration form at all is a raised Invalid error."""
        kind, _ = lua.ev(f"try(time.parse_duration, {expr})")
        assert kind == "Invalid"

    @given(st.integers(INT64_MIN, INT64_MAX))
    @settings(max_examples=300)
    def test_format_then_parse_round_trips(self, n: int) -> None:
        """Parsing the Go string of any Duration gives the Duration back."""
        lua = _shared()
        assert (
            lua.ev("time.parse_duration(tostring(time.parse_duration(...))):nanoseconds()", n) == n
        )

    @given(
        st.lists(
            st.tuples(
                st.text("0123456789", max_size=21),
                st.one_of(st.none(), st.text("0123456789", max_size=22)),
                st.sampled_from(["ns", "us", "\u00b5s", "\u03bcs", "ms", "s", "m", "h", "", "x"]),
            ),
            min_size=1,
            max_size=4,
        ),
        st.sampled_from(["", "-", "+"]),
    )
    @settings(max_examples=400)
    def test_generated_strings_agree_with_go(
        self, parts: list[tuple[str, str | None, str]], sign: str
    ) -> None:
        """Strings built from Go's grammar parse (or fail) exactly as Go's algorithm says."""
        text = sign + "".join(i + ("" if f is None else "." + f) + u for i, f, u in parts)
        expected = go_parse_duration(text.encode())
        lua = _shared()
        got = lua.run(PARSE_NS, text)
        assert got == expected, text

    @given(st.text(max_size=12))
    @settings(max_examples=300)
    def test_arbitrary_text_agrees_with_go(self, text: str) -> None:
        """Arbitrary text never breaks the parser, and validity matches Go's."""
        expected = go_parse_duration(text.encode())
        lua = _shared()
        got = lua.run(PARSE_NS, text)
        assert got == expected


PARSE_NS = "local d = time.parse_duration(...) return d and d:nanoseconds()"
_SHARED: list[Lua] = []


def _shared() -> Lua:
    """One state for hypothesis tests (function-scoped fixtures do not mix with @given)."""
    if not _SHARED:
        _SHARED.append(Lua())
    return _SHARED[0]


# --- Formatting --------------------------------------------------------------------------------

GO_STRINGS = {
    0: "0s",
    1: "1ns",
    999: "999ns",
    1000: "1\u00b5s",
    1100: "1.1\u00b5s",
    1_500: "1.5\u00b5s",
    2_200_000: "2.2ms",
    100_000_000: "100ms",
    300_000_000: "300ms",
    1_234_567: "1.234567ms",
    SECOND: "1s",
    1_500_000_000: "1.5s",
    -1_500_000_000: "-1.5s",
    3_300_000_000: "3.3s",
    60 * SECOND: "1m0s",
    90 * SECOND: "1m30s",
    (4 * 60 + 5) * SECOND: "4m5s",
    (4 * 60 + 5) * SECOND + 1_000_000: "4m5.001s",
    3600 * SECOND: "1h0m0s",
    (2 * 3600 + 45 * 60) * SECOND: "2h45m0s",
    (5 * 3600 + 6 * 60 + 7) * SECOND + 1_000_000: "5h6m7.001s",
    (8 * 3600 + 60) * SECOND + 1: "8h1m0.000000001s",
    -1: "-1ns",
    -1000: "-1\u00b5s",
    INT64_MAX: "2562047h47m16.854775807s",
    INT64_MIN: "-2562047h47m16.854775808s",
}


class TestDurationFormat:
    @pytest.mark.parametrize(("ns", "text"), list(GO_STRINGS.items()))
    def test_tostring_is_go_format(self, lua: Lua, ns: int, text: str) -> None:
        """tostring(d) is Go's Duration.String()."""
        assert go_duration_string(ns) == text
        assert lua.ev("tostring(time.parse_duration(...))", ns) == text

    @given(st.integers(INT64_MIN, INT64_MAX))
    @settings(max_examples=500)
    def test_tostring_matches_the_go_algorithm(self, n: int) -> None:
        """For any int64, tostring agrees with a port of Go's algorithm."""
        assert _shared().ev("tostring(time.parse_duration(...))", n) == go_duration_string(n)

    @given(st.integers(-(10**13), 10**13))
    @settings(max_examples=300)
    def test_tostring_matches_for_common_magnitudes(self, n: int) -> None:
        """Durations of everyday size (under three hours) format like Go."""
        assert _shared().ev("tostring(time.parse_duration(...))", n) == go_duration_string(n)


class TestDurationMethods:
    @pytest.mark.parametrize(
        ("ns", "us", "ms"),
        [
            (0, 0, 0),
            (1_500_999, 1500, 1),
            (-1_500_999, -1500, -1),
            (999, 0, 0),
            (-999, 0, 0),
            (INT64_MIN, INT64_MIN // 1000 + 1, -9_223_372_036_854),
            (INT64_MAX, 9_223_372_036_854_775, 9_223_372_036_854),
        ],
    )
    def test_integer_units_truncate_toward_zero(self, lua: Lua, ns: int, us: int, ms: int) -> None:
        """nanoseconds/microseconds/milliseconds are integers truncated toward zero."""
        got = lua.run(
            "local d = time.parse_duration(...) "
            "return d:nanoseconds(), d:microseconds(), d:milliseconds(), "
            "math.type(d:microseconds()), math.type(d:milliseconds())",
            ns,
        )
        assert got == (ns, us, ms, "integer", "integer")

    @pytest.mark.parametrize(
        "ns", [0, 1, -1, 1_500_000_000, -1_500_000_000, 5400 * SECOND, INT64_MAX, INT64_MIN]
    )
    def test_float_units_follow_go(self, lua: Lua, ns: int) -> None:
        """seconds/minutes/hours are floats computed like Go (whole units plus remainder)."""

        def go_units(unit: int) -> float:
            q = abs(ns) // unit * (1 if ns >= 0 else -1)
            r = ns - q * unit
            return float(q) + r / unit

        got = lua.run(
            "local d = time.parse_duration(...) return d:seconds(), d:minutes(), d:hours(), "
            "math.type(d:seconds())",
            ns,
        )
        assert got[3] == "float"
        assert got[:3] == (go_units(SECOND), go_units(60 * SECOND), go_units(3600 * SECOND))

    def test_simple_values(self, lua: Lua) -> None:
        """1.5s is 1.5 seconds, 90s is 1.5 minutes, 90m is 1.5 hours."""
        assert lua.ev("time.parse_duration('1.5s'):seconds()") == 1.5
        assert lua.ev("time.parse_duration('90s'):minutes()") == 1.5
        assert lua.ev("time.parse_duration('90m'):hours()") == 1.5

    def test_comparisons(self, lua: Lua) -> None:
        """Durations compare with ==, <, <= by length."""
        assert lua.run(
            "local p = time.parse_duration "
            "return p('1s') == p(1000000000), p('1s') ~= p('2s'), p('1s') < p('2s'), "
            "p('2s') <= p('2s'), p('3s') > p('2s'), p('-1s') < p(0)"
        ) == (True, True, True, True, True, True)

    def test_comparing_with_other_types(self, lua: Lua) -> None:
        """A Duration never equals a number or a Time; ordering against them raises Invalid."""
        assert lua.ev("time.parse_duration(5) == 5") is False
        assert lua.ev("time.parse_duration(5) == time.unix(0, 5)") is False
        assert lua.ev("try(function() return time.parse_duration(5) < 6 end)")[0] == "Invalid"
        assert lua.ev("try(function() return time.parse_duration(5) <= time.now() end)")[0] == (
            "Invalid"
        )

    def test_immutable(self, lua: Lua) -> None:
        """Assigning a field raises and getmetatable does not reveal the metatable."""
        assert lua.ev("try(function() time.parse_duration(1).x = 2 end)")[0] == "Invalid"
        assert lua.ev("try(function() time.parse_duration(1)._ns = 2 end)")[0] == "Invalid"
        assert lua.ev("type(getmetatable(time.parse_duration(1)))") == "string"
        assert lua.ev("try(setmetatable, time.parse_duration(1), {})")[0] == "raw"

    def test_method_on_wrong_object_raises(self, lua: Lua) -> None:
        """Calling a Duration method with `.` on something else raises Invalid."""
        assert lua.ev("try(time.parse_duration(1).seconds, 5)")[0] == "Invalid"
        assert lua.ev("try(time.parse_duration(1).seconds, time.now())")[0] == "Invalid"


# --- Time --------------------------------------------------------------------------------------


class TestTime:
    def test_now_reads_the_host_clock(self, lua: Lua) -> None:
        """time.now() is a Time at H.now()."""
        assert lua.ev("time.now():unix_nano()") == CLOCK
        assert lua.ev("time.now():unix()") == CLOCK // SECOND

    @pytest.mark.parametrize(
        "ns",
        [
            0,
            1,
            -1,
            CLOCK,
            1_700_000_000_000_000_000,
            1_700_000_000_100_000_000,
            951_782_400 * SECOND,  # 2000-02-29
            951_868_799 * SECOND + 999_999_999,  # 2000-02-29T23:59:59.999999999
            4_107_542_400 * SECOND,  # 2100-03-01 (2100 is not a leap year)
            68_256_000 * SECOND,  # 1972-02-29
            -86_400 * SECOND,  # 1969-12-31
            -SECOND // 2,  # 1969-12-31T23:59:59.5
            -2_208_988_800 * SECOND,  # 1900-01-01
            INT64_MAX,
            INT64_MIN,
        ],
    )
    def test_rfc3339_strings(self, lua: Lua, ns: int) -> None:
        """tostring is RFC3339Nano in UTC; format_rfc3339 is RFC3339 (whole seconds)."""
        assert lua.ev("tostring(time.unix(0, ...))", ns) == rfc3339(ns)
        assert lua.ev("time.unix(0, ...):format_rfc3339()", ns) == rfc3339(ns, nano=False)

    def test_rfc3339_examples(self, lua: Lua) -> None:
        """Known values: trailing zeros trimmed, no fraction when whole, leap day, pre-1970."""
        assert lua.ev("tostring(time.unix(1700000000, 100000000))") == "2023-11-14T22:13:20.1Z"
        assert lua.ev("tostring(time.unix(1700000000, 0))") == "2023-11-14T22:13:20Z"
        assert lua.ev("tostring(time.unix(951782400, 1))") == "2000-02-29T00:00:00.000000001Z"
        assert lua.ev("tostring(time.unix(-1, 500000000))") == "1969-12-31T23:59:59.5Z"
        assert lua.ev("tostring(time.unix(0, math.mininteger))") == "1677-09-21T00:12:43.145224192Z"
        assert lua.ev("tostring(time.unix(0, math.maxinteger))") == "2262-04-11T23:47:16.854775807Z"

    @given(st.integers(INT64_MIN, INT64_MAX))
    @settings(max_examples=500)
    def test_rfc3339_matches_datetime(self, ns: int) -> None:
        """For any int64 Unix nanoseconds the RFC 3339 strings agree with Python's datetime."""
        lua = _shared()
        assert lua.ev("tostring(time.unix(0, ...))", ns) == rfc3339(ns)
        assert lua.ev("time.unix(0, ...):format_rfc3339()", ns) == rfc3339(ns, nano=False)

    def test_unix_floors_before_1970(self, lua: Lua) -> None:
        """t:unix() floors (Go's Unix), so -0.5s is second -1."""
        assert lua.ev("time.unix(0, -500000000):unix()") == -1
        assert lua.ev("time.unix(0, -500000000):unix_nano()") == -500_000_000

    def test_unix_constructor_normalises(self, lua: Lua) -> None:
        """time.unix(sec, nsec) accepts nsec outside [0, 1e9) and an omitted nsec."""
        assert lua.ev("time.unix(1, 2):unix_nano()") == SECOND + 2
        assert lua.ev("time.unix(5):unix_nano()") == 5 * SECOND
        assert lua.ev("time.unix(1, -1):unix_nano()") == SECOND - 1
        assert lua.ev("time.unix(0, 3500000000):unix_nano()") == 3_500_000_000
        assert lua.ev("time.unix(2.0, 0):unix_nano()") == 2 * SECOND
        assert lua.ev("time.unix(-9223372037, 145224192):unix_nano()") == INT64_MIN
        assert lua.ev("time.unix(9223372036, 854775807):unix_nano()") == INT64_MAX

    def test_unix_constructor_range_and_types(self, lua: Lua) -> None:
        """Out-of-range times return Invalid; non-integer arguments raise Invalid."""
        assert lua.ev("err(time.unix(9223372036, 854775808))")[0] == "Invalid"
        assert lua.ev("err(time.unix(-9223372037, 145224191))")[0] == "Invalid"
        assert lua.ev("err(time.unix(math.maxinteger, math.maxinteger))")[0] == "Invalid"
        assert lua.ev("err(time.unix(math.mininteger, -1))")[0] == "Invalid"
        assert lua.ev("try(time.unix, 1.5)")[0] == "Invalid"
        assert lua.ev("try(time.unix, '1')")[0] == "Invalid"
        assert lua.ev("try(time.unix, 1, 0.5)")[0] == "Invalid"

    @pytest.mark.parametrize(
        ("arg", "ns"),
        [
            ("'1.5s'", 1_500_000_000),
            ("'-2h'", -7200 * SECOND),
            ("1500", 1500),
            ("2.9", 2),
            ("time.parse_duration('1m')", 60 * SECOND),
            ("3 * time.SECOND", 3 * SECOND),
        ],
    )
    def test_add_accepts_every_duration_form(self, lua: Lua, arg: str, ns: int) -> None:
        """t:add(d) takes a duration string, nanoseconds or a Duration."""
        assert lua.ev(f"time.now():add({arg}):unix_nano()") == CLOCK + ns

    def test_add_errors(self, lua: Lua) -> None:
        """A bad duration or an out-of-range result returns Invalid; a wrong type raises."""
        assert lua.ev("err(time.now():add('soon'))")[0] == "Invalid"
        assert lua.ev("err(time.unix(0, math.maxinteger):add(1))")[0] == "Invalid"
        assert lua.ev("err(time.unix(0, math.mininteger):add(-1))")[0] == "Invalid"
        assert lua.ev("try(function() return time.now():add({}) end)")[0] == "Invalid"
        assert lua.ev("try(function() return time.now():add(time.now()) end)")[0] == "Invalid"

    def test_sub_gives_a_duration(self, lua: Lua) -> None:
        """t:sub(u) is the Duration t - u, and add/sub are inverse."""
        assert lua.run(
            "local t = time.now() local u = t:add('1h30m') "
            "return tostring(u:sub(t)), tostring(t:sub(u)), u:sub(t):milliseconds(), "
            "t:add(u:sub(t)):equal(u)"
        ) == ("1h30m0s", "-1h30m0s", 5_400_000, True)

    def test_sub_saturates(self, lua: Lua) -> None:
        """Like Go, t:sub(u) saturates at the Duration limits instead of wrapping."""
        assert (
            lua.ev("time.unix(0, math.maxinteger):sub(time.unix(0, math.mininteger)):nanoseconds()")
            == INT64_MAX
        )
        assert (
            lua.ev("time.unix(0, math.mininteger):sub(time.unix(0, math.maxinteger)):nanoseconds()")
            == INT64_MIN
        )
        assert lua.ev("time.unix(0, -1):sub(time.unix(0, math.maxinteger)):nanoseconds()") == (
            INT64_MIN
        )

    def test_sub_needs_a_time(self, lua: Lua) -> None:
        """t:sub with a Duration or a number raises Invalid."""
        assert lua.ev("try(function() return time.now():sub('1s') end)")[0] == "Invalid"
        assert lua.ev("try(function() return time.now():sub(time.parse_duration(1)) end)")[0] == (
            "Invalid"
        )

    def test_ordering(self, lua: Lua) -> None:
        """before/after/equal and the comparison operators order Times."""
        assert lua.run(
            "local a, b = time.unix(1, 0), time.unix(2, 0) "
            "return a:before(b), a:after(b), b:after(a), a:equal(time.unix(0, 1000000000)), "
            "a < b, a <= a, b > a, a == time.unix(1), a ~= b"
        ) == (True, False, True, True, True, True, True, True, True)

    def test_ordering_needs_a_time(self, lua: Lua) -> None:
        """Comparing a Time with something else raises Invalid (== is simply false)."""
        assert lua.ev("try(function() return time.now():before(5) end)")[0] == "Invalid"
        assert lua.ev("try(function() return time.now() < 5 end)")[0] == "Invalid"
        assert lua.ev("time.unix(0, 5) == time.parse_duration(5)") is False

    def test_immutable(self, lua: Lua) -> None:
        """Assigning a field raises and getmetatable does not reveal the metatable."""
        assert lua.ev("try(function() time.now().year = 1 end)")[0] == "Invalid"
        assert lua.ev("try(function() time.now()._ns = 1 end)")[0] == "Invalid"
        assert lua.ev("getmetatable(time.now())") == "time.Time"

    def test_method_on_wrong_object_raises(self, lua: Lua) -> None:
        """Calling a Time method with `.` or on another value raises Invalid."""
        assert lua.ev("try(time.now().unix)")[0] == "Invalid"
        assert lua.ev("try(time.now().unix, time.parse_duration(1))")[0] == "Invalid"
        assert lua.ev("try(time.now().format_rfc3339, {_ns = 1})")[0] == "Invalid"

    def test_cheap_representation(self, lua: Lua) -> None:
        """A Time and a Duration are tables with one integer field."""
        assert lua.run(
            "local n = 0 for k, v in next, time.now() do n = n + 1 end "
            "local m = 0 for k, v in next, time.parse_duration(1) do m = m + 1 end return n, m"
        ) == (1, 1)


# --- Blocking functions ------------------------------------------------------------------------


class TestSleep:
    def test_sleep_calls_the_host(self, lua: Lua) -> None:
        """time.sleep passes nanoseconds to H.sleep and returns nothing."""
        got = lua.run(
            "H.slept = {} local n = select('#', time.sleep('10ms')) "
            "time.sleep(5) time.sleep(time.parse_duration('1s')) time.sleep(2.5) "
            "return n, table.unpack(H.slept)"
        )
        assert got == (0, 10_000_000, 5, SECOND, 2)

    @pytest.mark.parametrize("arg", ["0", "-1", "'-1s'", "'0s'", "0.5", "time.parse_duration(0)"])
    def test_non_positive_returns_at_once(self, lua: Lua, arg: str) -> None:
        """A duration <= 0 returns at once without a host sleep."""
        code = f"H.slept = {{}} local r = select('#', time.sleep({arg})) return r, #H.slept"
        assert lua.run(code) == (0, 0)

    def test_invalid_duration_is_returned(self, lua: Lua) -> None:
        """An invalid duration string returns nil and Invalid; a wrong type raises."""
        assert lua.ev("err(time.sleep('forever'))")[0] == "Invalid"
        assert lua.ev("try(time.sleep, {})")[0] == "Invalid"

    def test_host_failure_is_returned(self, lua: Lua) -> None:
        """An error from H.sleep (e.g. cancellation) is returned as nil, err."""
        assert lua.run(
            "local real = H.sleep "
            "H.sleep = function() return nil, K.error('Canceled', 'stop') end "
            "local a, b = time.sleep(1) H.sleep = real return a, b:kind()"
        ) == (None, "Canceled")


class TestAfter:
    def test_after_uses_a_host_timer(self, lua: Lua) -> None:
        """time.after(d) asks H.timer for d ns; the channel yields one Time, then closes."""
        assert lua.run(
            "H.timers = {} local ch = time.after('250ms') local v, ok = ch:receive() "
            "local v2, ok2 = ch:receive() "
            "return H.timers[1], v:unix_nano(), ok, v2, ok2, getmetatable(v)"
        ) == (250_000_000, CLOCK + 250_000_000, True, None, False, "time.Time")

    @pytest.mark.parametrize("arg", ["0", "-5", "'-1h'"])
    def test_non_positive_delivers_at_once(self, lua: Lua, arg: str) -> None:
        """A duration <= 0 gives a channel already holding the current Time, then closed."""
        assert lua.run(
            f"H.timers = {{}} local ch = time.after({arg}) local v, ok = ch:receive() "
            "local v2, ok2 = ch:receive() return #H.timers, v:unix_nano(), ok, v2, ok2"
        ) == (0, CLOCK, True, None, False)

    def test_invalid_duration_is_returned(self, lua: Lua) -> None:
        """An invalid duration string returns nil and Invalid; a wrong type raises."""
        assert lua.ev("err(time.after('1 minute'))")[0] == "Invalid"
        assert lua.ev("try(time.after, true)")[0] == "Invalid"


# --- Extended API ------------------------------------------------------------------------------


class TestExtended:
    @pytest.mark.parametrize(
        "name", ["timer", "ticker", "date", "parse", "load_location", "fixed_zone"]
    )
    def test_module_functions_raise_not_supported(self, lua: Lua, name: str) -> None:
        """Extended module functions exist and raise a clear Invalid error."""
        assert lua.ev(f"try(time.{name}, '1s')") == (
            "Invalid",
            f"time.{name} is not supported by this orrery build",
        )

    @pytest.mark.parametrize("name", ["format", "year", "nanosecond", "utc", "round", "add_date"])
    def test_time_methods_raise_not_supported(self, lua: Lua, name: str) -> None:
        """Extended Time methods raise a clear Invalid error."""
        kind, message = lua.ev(f"try(function() return time.now():{name}('x') end)")
        assert kind == "Invalid"
        assert message == f"time.Time:{name} is not supported by this orrery build"


def test_reference_ports_agree_with_each_other() -> None:
    """The two Go ports used as oracles are consistent on a few hand-checked values."""
    for ns in [0, 1, 999_999_999, SECOND, 3 * 3600 * SECOND + 1, INT64_MAX, INT64_MIN]:
        assert go_parse_duration(go_duration_string(ns).encode()) == ns
    assert math.isclose(go_parse_duration(b"1.5h") or 0, 5400 * SECOND)
