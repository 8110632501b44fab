"""One PID syntax on both sides: K.parse_pid (runtime/lua/kernel.lua) and Pid
(runtime/_pid.py) split every golden vector the same way, and Pid formats it back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from orrery.errors import InvalidError
from orrery.hosts._native import standalone_engine
from orrery.runtime._pid import Pid

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "pids.json").read_text())
VECTORS: list[tuple[str, list[str | None] | None]] = [(t, p) for t, p in GOLDEN["vectors"]]
IDS = [repr(t) for t, _ in VECTORS]


@pytest.fixture(scope="module")
def lua_parse() -> Any:
    engine = standalone_engine("pids")
    fn = engine.runtime.eval(
        "function(K, s) local n, h, i = K.parse_pid(s) if not h then return false end "
        "return true, n, h, i end"
    )
    return lambda text: fn(engine.K, text.encode())


@pytest.mark.parametrize(("text", "parts"), VECTORS, ids=IDS)
def test_the_kernel_splits_pids_like_the_golden_vectors(
    lua_parse: Any, text: str, parts: list[str | None] | None
) -> None:
    result = lua_parse(text)
    ok, *rest = result if isinstance(result, tuple) else (result,)
    if parts is None:
        assert ok is False
    else:
        assert ok is True
        assert [None if v is None else v.decode() for v in rest] == parts


@pytest.mark.parametrize(("text", "parts"), VECTORS, ids=IDS)
def test_pid_parses_like_the_golden_vectors_and_formats_back(
    text: str, parts: list[str | None] | None
) -> None:
    if parts is None:
        assert Pid.try_parse(text) is None
        with pytest.raises(InvalidError, match="is not a PID"):
            Pid.parse(text)
    else:
        pid = Pid.parse(text)
        assert [pid.node, pid.host, pid.id] == parts
        assert str(pid) == text
