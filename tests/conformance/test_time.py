"""The time module: sleep, after, durations, Time and Duration.

See docs/reference/lua-modules.md, "time".

Cases that wait run under virtual time (autojump), so elapsed times are exact.
"""

from __future__ import annotations

from typing import Any

import pytest

from ._support import run_on_host


async def check(host: str, name: str) -> Any:
    return await run_on_host("time", "check", host, name)


@pytest.mark.autojump
async def test_sleep_accepts_strings_nanosecond_numbers_and_durations(host: str) -> None:
    """time.sleep("1.5s"), sleep(250 * MILLISECOND) and sleep(Duration) wait that long."""
    result = await check(host, "sleep")
    assert 1500 <= result["string_ms"] < 1600
    assert 250 <= result["ns_number_ms"] < 350
    assert 120_000 <= result["duration_object_ms"] < 120_100
    assert result["non_positive_ms"] < 100


@pytest.mark.autojump
async def test_a_long_sleep_measures_as_its_duration(host: str) -> None:
    """time.now():sub(t):milliseconds() after sleeping an hour is an hour."""
    assert 3_600_000 <= await check(host, "long_sleep") < 3_600_100


@pytest.mark.autojump
async def test_after_fires_once_in_select_then_closes(host: str) -> None:
    """time.after(d) delivers one Time after d, wins a select against a silent channel, closes."""
    result = await check(host, "after")
    assert result.pop("ms") in range(300, 400)
    assert result == {
        "timer_won": True,
        "value_is_time": True,
        "closed_after_one": True,
        "zero_delivers": True,
    }


async def test_a_ready_message_beats_a_timeout_guard(host: str) -> None:
    """A select with a time.after guard returns the message when it is there."""
    assert await check(host, "guard") == "there"


async def test_durations_constants_and_time_values(host: str) -> None:
    """Constants are integer nanoseconds; Duration and Time methods give consistent answers."""
    assert await check(host, "values") == {
        "constants": [1, 1_000, 1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000],
        "constants_are_integers": True,
        "minutes": 90.0,
        "seconds": 5400.0,
        "ms": 5_400_000,
        "ns": 5_400_000_000_000,
        "text": "1.5s",
        "add_sub": 1500,
        "before": True,
        "after": True,
        "equal": True,
        "unix": True,
        "rfc3339": True,
        "bad_parse": {"returned_nil": True, "kind": "Invalid"},
        "bad_sleep": {"kind": "Invalid"},
    }
