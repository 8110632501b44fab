"""Byte sizes: the node's Lua memory limit as written in ``orrery.yaml`` and in messages.

A size is a whole number of bytes (``67108864``) or a string with a unit: ``"64MiB"``,
``"512 MB"``, ``"1GiB"``, ``"300KiB"``. Binary (``KiB``/``MiB``/``GiB``) and decimal
(``KB``/``MB``/``GB``) units are both accepted; ``0`` means no limit.
"""

from __future__ import annotations

import re

#: Default byte limit of a node's native Lua state (all native processes share it).
DEFAULT_LUA_MEMORY_LIMIT = 512 * 1024 * 1024

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")


def parse_bytes(text: str) -> int:
    """Parses a size such as ``"64MiB"`` into bytes.

    Args:
        text: a number followed by an optional unit (B, KB, MB, GB, KiB, MiB, GiB).

    Returns:
        The size in whole bytes.

    Raises:
        ValueError: ``text`` is not a size; the message says what is accepted.
    """
    match = _SIZE_RE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(
            f'invalid size "{text}" (a number of bytes, or a number with a unit such as '
            '"64MiB", "512MB" or "1GiB")'
        )
    return int(float(match.group(1)) * _UNITS[unit])


def format_bytes(size: int) -> str:
    """Renders a byte count for messages: ``"64 MiB"`` when whole mebibytes, else bytes."""
    mib, rest = divmod(size, 1024 * 1024)
    if mib and not rest:
        return f"{mib} MiB"
    return f"{size} bytes"
