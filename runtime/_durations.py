"""Go duration syntax: parsing and formatting.

See docs/reference/yaml-kinds.md, "Value types", docs/reference/lua-modules.md, "Conventions".

YAML durations are strings in Go's ``time.ParseDuration`` syntax (``"150ms"``, ``"1h30m"``,
``"1.5s"``). Lua option tables additionally accept a bare number, meaning milliseconds. Durations
are handed to the rest of orrery as float seconds; :func:`format_duration` renders them back the
way Go's ``Duration.String`` does, so messages show the same text users write.
"""

from __future__ import annotations

import math
import re

__all__ = ["format_duration", "parse_duration", "parse_option_duration"]

_NANOSECOND = 1
_MICROSECOND = 1_000
_MILLISECOND = 1_000_000
_SECOND = 1_000_000_000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE

#: Largest duration Go can represent (int64 nanoseconds).
_MAX_NS = 2**63 - 1

_UNITS: dict[str, int] = {
    "ns": _NANOSECOND,
    "us": _MICROSECOND,
    "\u00b5s": _MICROSECOND,  # MICRO SIGN
    "\u03bcs": _MICROSECOND,  # GREEK SMALL LETTER MU
    "ms": _MILLISECOND,
    "s": _SECOND,
    "m": _MINUTE,
    "h": _HOUR,
}

# One component: digits, an optional fraction, then a unit (any run of non-digit, non-dot chars).
_COMPONENT = re.compile(r"(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?P<unit>[^0-9.]*)")


def _leading_fraction(digits: str) -> tuple[int, float]:
    """Go's ``leadingFraction``: the digits as an integer and their scale, stopping at overflow."""
    value = 0
    scale = 1.0
    for char in digits:
        if value > _MAX_NS // 10:
            break
        candidate = value * 10 + int(char)
        if candidate > _MAX_NS + 1:
            break
        value = candidate
        scale *= 10
    return value, scale


def _parse_ns(text: str) -> int:
    """Parses a Go duration into signed integer nanoseconds (Go's ``time.ParseDuration``)."""
    quoted = _quote(text)
    rest = text
    negative = False
    if rest[:1] in ("-", "+"):
        negative = rest[0] == "-"
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise ValueError(f"invalid duration {quoted}: empty")
    total = 0
    pos = 0
    while pos < len(rest):
        match = _COMPONENT.match(rest, pos)
        assert match is not None  # the pattern matches the empty string
        whole, frac, unit = match.group("int"), match.group("frac"), match.group("unit")
        if not whole and not frac:
            raise ValueError(f'invalid duration {quoted}: expected a number at "{rest[pos:]}"')
        if not unit:
            raise ValueError(f"invalid duration {quoted}: missing unit (use ns, us, ms, s, m or h)")
        scale = _UNITS.get(unit)
        if scale is None:
            raise ValueError(
                f'invalid duration {quoted}: unknown unit "{unit}" (use ns, us, ms, s, m or h)'
            )
        value = int(whole or "0") * scale
        if frac:
            fraction, divisor = _leading_fraction(frac)
            # Go computes the fractional part in float64 and truncates it.
            value += int(float(fraction) * (float(scale) / divisor))
        total += value
        if total > _MAX_NS + negative:  # Go's range is -2**63 .. 2**63 - 1
            raise ValueError(f"invalid duration {quoted}: out of range")
        pos = match.end()
    return -total if negative else total


def _quote(text: str) -> str:
    """Quotes ``text`` the way Go and the registry messages do (double quotes)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def parse_duration(text: str) -> float:
    """Parses a duration string in Go syntax into seconds.

    Accepted units are ``ns``, ``us`` (or ``µs``), ``ms``, ``s``, ``m`` and ``h``; components may
    be fractional and are summed (``"1h30m"``, ``"1.5s"``, ``".5ms"``). ``"0"`` is the only
    number allowed without a unit. Negative durations are refused, as docs/reference/yaml-kinds.md
    requires.

    Args:
        text: the duration, for example ``"300ms"``.

    Returns:
        The duration in seconds.

    Raises:
        ValueError: ``text`` is not a string, not valid Go syntax, negative or out of range
            (the message quotes the text and says why).
    """
    if not isinstance(text, str):
        raise ValueError(f'invalid duration {text!r}: expected a string such as "5s"')
    if text.startswith("-"):
        raise ValueError(f"invalid duration {_quote(text)}: durations must not be negative")
    return _parse_ns(text) / _SECOND


def parse_option_duration(value: object) -> float:
    """Parses a duration given in a Lua option table into seconds.

    A string is parsed with :func:`parse_duration`; a bare integer or float means milliseconds
    (so ``1500`` and ``"1.5s"`` are the same duration).

    Args:
        value: a duration string, or a number of milliseconds.

    Returns:
        The duration in seconds.

    Raises:
        ValueError: the value is not a string or number, or is invalid, negative or not finite.
    """
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f'invalid duration {value!r}: expected a string such as "5s" or a number of '
            "milliseconds"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"invalid duration {value!r}: must be a finite number of milliseconds")
    if value < 0:
        raise ValueError(f"invalid duration {value!r}: durations must not be negative")
    return value / 1000


def _fmt_frac(value: int, prec: int) -> tuple[str, int]:
    """Go's ``fmtFrac``: the fraction of ``value / 10**prec`` without trailing zeros."""
    digits = []
    printed = False
    for _ in range(prec):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        value //= 10
    frac = "." + "".join(reversed(digits)) if printed else ""
    return frac, value


def format_duration(seconds: float) -> str:
    """Formats a duration the way Go's ``Duration.String`` does.

    Examples: ``0`` → ``"0s"``, ``0.3`` → ``"300ms"``, ``1.5`` → ``"1.5s"``,
    ``9900`` → ``"2h45m0s"``, ``1.5e-6`` → ``"1.5µs"``. The value is rounded to whole
    nanoseconds first; negative values get a leading ``-``.

    Args:
        seconds: the duration in seconds.

    Returns:
        The Go rendering of the duration.

    Raises:
        ValueError: ``seconds`` is not finite.
    """
    if not math.isfinite(seconds):
        raise ValueError(f"cannot format duration {seconds!r}: not finite")
    ns = round(seconds * _SECOND)
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u == 0:
        return "0s"
    if u < _SECOND:
        if u < _MICROSECOND:
            prec, unit = 0, "ns"
        elif u < _MILLISECOND:
            prec, unit = 3, "\u00b5s"
        else:
            prec, unit = 6, "ms"
        frac, u = _fmt_frac(u, prec)
        return f"{sign}{u}{frac}{unit}"
    frac, u = _fmt_frac(u, 9)
    text = f"{u % 60}{frac}s"
    u //= 60
    if u > 0:
        text = f"{u % 60}m{text}"
        u //= 60
        if u > 0:
            text = f"{u}h{text}"
    return sign + text
