"""Memory probes for the reliability tests: process RSS and the Lua heap, with peaks."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import attrs
import trio

_PAGE = os.sysconf("SC_PAGE_SIZE")


_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None)


def settled_rss_bytes() -> int:
    """RSS after glibc returned its free heap pages to the system (``malloc_trim``).

    Without the trim, RSS keeps the allocator's high-water mark: freed memory that is
    reused by the next burst, which hides whether anything was actually kept.
    """
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)
    return rss_bytes()


def rss_bytes() -> int:
    """Resident set size of this Python process, in bytes (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * _PAGE


@attrs.define
class Peak:
    """Highest values seen by :func:`sample_peaks`."""

    rss: int = 0
    lua: int = 0


@asynccontextmanager
async def sample_peaks(lua_heap: Callable[[], int], every: float = 0.005) -> AsyncIterator[Peak]:
    """Samples RSS and the Lua heap every ``every`` seconds while the block runs."""
    peak = Peak(rss=rss_bytes(), lua=lua_heap())

    async def sampler() -> None:
        while True:
            peak.rss = max(peak.rss, rss_bytes())
            peak.lua = max(peak.lua, lua_heap())
            await trio.sleep(every)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sampler)
        yield peak
        nursery.cancel_scope.cancel()
    peak.rss = max(peak.rss, rss_bytes())
    peak.lua = max(peak.lua, lua_heap())
