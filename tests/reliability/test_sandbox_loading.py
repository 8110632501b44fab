"""Top-level code of an entry runs at load time (docs/sandbox.md): an attack there must end
in a load problem naming the entry's file and line, never a hang or a raw traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from orrery.errors import RegistryError
from orrery.runtime._node import load

INDEX = """version: "1.0"
namespace: t.load
entries:
  - {name: main, kind: function.lua, source: file://main.lua}
"""

#: top-level chunks that raise values whose metamethods loop, yield or wait
CHUNKS = {
    "eq_loops": "local f = function() while true do end end",
    "eq_yields": "local f = function() coroutine.yield(1) end",
    "eq_errors": "local f = function() error('from a metamethod') end",
}


@pytest.mark.parametrize("name", sorted(CHUNKS))
def test_a_chunk_raising_a_table_with_hostile_metamethods_is_a_load_problem(
    tmp_path: Path, name: str
) -> None:
    """The loading check reports the raise by the value's type; no metamethod runs."""
    (tmp_path / "_index.yaml").write_text(INDEX)
    (tmp_path / "main.lua").write_text(
        CHUNKS[name] + "\n"
        "local mt = {__eq = f, __tostring = f, __name = f, __concat = f, __len = f}\n"
        "error(setmetatable({}, mt))\n"
    )
    with pytest.raises(RegistryError) as caught:
        load([tmp_path])
    text = str(caught.value)
    assert "main.lua" in text
    assert "t.load:main" in text
    assert "error while loading: (error object is a table value)" in text
    assert "Traceback" not in text
