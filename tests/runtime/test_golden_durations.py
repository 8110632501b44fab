"""One Go duration syntax on both sides: the Lua parser (runtime/lua/durations.lua) and the
Python one (runtime/_durations.py) answer every golden vector as Go's time.ParseDuration does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from orrery.hosts._native import standalone_engine
from orrery.runtime._durations import _parse_ns

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "durations.json").read_text())
VECTORS: list[tuple[str, int | None]] = [(text, ns) for text, ns in GOLDEN["vectors"]]


@pytest.fixture(scope="module")
def lua_parse() -> Any:
    engine = standalone_engine("durations")
    return engine.runtime.eval("function(K, s) return K.parse_duration(s) end"), engine.K


@pytest.mark.parametrize(("text", "ns"), VECTORS, ids=[repr(t) for t, _ in VECTORS])
def test_the_lua_parser_answers_like_go(lua_parse: Any, text: str, ns: int | None) -> None:
    fn, kernel = lua_parse
    result = fn(kernel, text.encode())
    value, message = result if isinstance(result, tuple) else (result, None)
    if ns is None:
        assert value is None
        assert message is not None and message.startswith(b"time: ")
    else:
        assert value == ns


@pytest.mark.parametrize(("text", "ns"), VECTORS, ids=[repr(t) for t, _ in VECTORS])
def test_the_python_parser_answers_like_go(text: str, ns: int | None) -> None:
    # the syntax; YAML fields then refuse negative durations (runtime/_durations.py)
    if ns is None:
        with pytest.raises(ValueError):
            _parse_ns(text)
    else:
        assert _parse_ns(text) == ns
