"""Tests of the Go duration syntax helpers (docs/reference/yaml-kinds.md, "Value types").

Expected values come from Go's own ``time`` package tests (``parseDurationTests`` and
``durationTests`` in ``src/time/time_test.go``), not from the implementation.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from orrery.runtime._durations import format_duration, parse_duration, parse_option_duration

NS = 1e-9
US = 1e-6
MS = 1e-3
MIN = 60.0
HOUR = 3600.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("0s", 0.0),
        ("5s", 5.0),
        ("30s", 30.0),
        ("1478s", 1478.0),
        ("+5s", 5.0),
        ("5.0s", 5.0),
        ("5.6s", 5.6),
        ("5.s", 5.0),
        (".5s", 0.5),
        ("1.004s", 1.004),
        ("100.00100s", 100.001),
        ("10ns", 10 * NS),
        ("11us", 11 * US),
        ("12\u00b5s", 12 * US),
        ("12\u03bcs", 12 * US),
        ("13ms", 13 * MS),
        ("15m", 15 * MIN),
        ("16h", 16 * HOUR),
        ("3h30m", 3.5 * HOUR),
        ("10.5s4m", 4 * MIN + 10.5),
        ("1h2m3s4ms5us6ns", HOUR + 2 * MIN + 3 + 4 * MS + 5 * US + 6 * NS),
        ("39h9m14.425s", 39 * HOUR + 9 * MIN + 14.425),
        ("52763797000ns", 52.763797),
        ("0.3333333333333333333h", 20 * MIN),
        ("0.100000000000000000000h", 6 * MIN),
        ("1.5h", 5400.0),
        ("150ms", 0.15),
    ],
)
def test_parse_duration_accepts_go_syntax(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12, abs=1e-15)


def test_parse_duration_reaches_the_int64_limit() -> None:
    assert parse_duration("9223372036854775807ns") == pytest.approx(9223372036.854775807)
    assert parse_duration("9223372036854ms775us807ns") == pytest.approx(9223372036.854775807)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("3", "missing unit"),
        ("s", "expected a number"),
        (".", "expected a number"),
        (".s", "expected a number"),
        ("+.s", "expected a number"),
        ("1d", 'unknown unit "d"'),
        ("5 s", 'unknown unit " s"'),
        ("1.5.5s", "missing unit"),
        ("9223372036854775808ns", "out of range"),
        ("9223372036854775.808us", "out of range"),
        ("9223372036854ms775us808ns", "out of range"),
        ("-5s", "must not be negative"),
        ("-0s", "must not be negative"),
        ("-", "must not be negative"),
    ],
)
def test_parse_duration_rejects_bad_text(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="invalid duration") as info:
        parse_duration(text)
    assert f'"{text}"' in str(info.value)
    assert reason in str(info.value)


@pytest.mark.parametrize("value", [5, 1.5, None, True, ["5s"]])
def test_parse_duration_only_takes_strings(value: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1.5s", 1.5), ("300ms", 0.3), (1500, 1.5), (0, 0.0), (2.5, 0.0025), ("0", 0.0)],
)
def test_option_durations_take_strings_or_milliseconds(value: object, seconds: float) -> None:
    assert parse_option_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [-1, -0.5, "-1s", math.nan, math.inf, True, None, [1], "x"])
def test_option_durations_reject_bad_values(value: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_option_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0s"),
        (1 * NS, "1ns"),
        (1100 * NS, "1.1\u00b5s"),
        (2.2 * MS, "2.2ms"),
        (3.3, "3.3s"),
        (4 * MIN + 5, "4m5s"),
        (4 * MIN + 5.001, "4m5.001s"),
        (5 * HOUR + 6 * MIN + 7.001, "5h6m7.001s"),
        (8 * MIN + 1 * NS, "8m0.000000001s"),
        (2 * HOUR + 45 * MIN, "2h45m0s"),
        (0.3, "300ms"),
        (1.5, "1.5s"),
        (60.0, "1m0s"),
        (-1.5, "-1.5s"),
        (-2 * MS, "-2ms"),
    ],
)
def test_format_duration_matches_go(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_rejects_non_finite() -> None:
    with pytest.raises(ValueError, match="not finite"):
        format_duration(math.inf)


# Below 2**50 ns (about 13 days) float seconds still hold every nanosecond exactly enough.
@given(st.integers(min_value=0, max_value=2**50))
def test_format_then_parse_round_trips(nanoseconds: int) -> None:
    seconds = nanoseconds / 1e9
    text = format_duration(seconds)
    assert round(parse_duration(text) * 1e9) == nanoseconds


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=999), st.sampled_from(["h", "m", "s", "ms"])),
        min_size=1,
        max_size=4,
    )
)
def test_parse_then_format_is_canonical(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{value}{unit}" for value, unit in parts)
    canonical = format_duration(parse_duration(text))
    assert parse_duration(canonical) == pytest.approx(parse_duration(text))
    assert format_duration(parse_duration(canonical)) == canonical
