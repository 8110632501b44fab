"""Bad input, fuzzed: registry YAML, JSON arguments, payloads and Lua sources.

Every case must end in a value or an error that says where (file, entry, field, Lua line) —
never a raw Python exception, a hung node or a crashed node. Hypothesis runs derandomized
with bounded examples so the suite is reproducible and fast.
"""

from __future__ import annotations

import logging
import math
import tempfile
from pathlib import Path
from typing import Any

import orrery
import pytest
import trio
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orrery.errors import OrreryError, RegistryError
from orrery.runtime._cli import main as cli_main
from orrery.runtime._codec import from_json_text
from orrery.runtime._errors import UsageError
from orrery.runtime._node import load

FUZZ = Path(__file__).parent / "apps" / "fuzz"
SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def fuzz(examples: int) -> settings:
    """Reproducible settings (derandomized, no deadline) with at most ``examples`` cases."""
    return settings(SETTINGS, max_examples=examples)


# -- registry YAML -------------------------------------------------------------------------

KINDS = [
    "process.lua",
    "function.lua",
    "workflow.lua",
    "process.host",
    "process.service",
    "process.supervisor",
    "temporal.client",
    "temporal.worker",
    "library.lua",
    "bogus",
    "",
]
FIELDS = [
    "name",
    "kind",
    "source",
    "method",
    "modules",
    "host",
    "process",
    "input",
    "lifecycle",
    "meta",
    "imports",
    "children",
    "strategy",
    "max_processes",
    "task_queue",
    "client",
    "restart",
    "auto_start",
    "unknown_field",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "file://a.lua",
            "file://../../etc/passwd",
            "file://missing.lua",
            "app:processes",
            "5s",
            "-1s",
            "return 1",
            "main",
            "process",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=3)
    ),
    max_leaves=8,
)
entry = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6).map(
    lambda d: {**d, "kind": d.get("kind", "x")}
) | st.fixed_dictionaries(
    {"name": st.sampled_from(["a", "b", "a b", "", "x:y"]), "kind": st.sampled_from(KINDS)},
    optional={f: values for f in FIELDS[2:]},
)
document = st.fixed_dictionaries(
    {},
    optional={
        "version": st.sampled_from(["1.0", "2", 1.0, None]),
        "namespace": st.sampled_from(["app", "", "Bad Name", "a.b", 7]),
        "entries": st.one_of(st.lists(entry, max_size=4), values),
    },
)

VALID_INDEX = (FUZZ / "_index.yaml").read_text()


def _mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    for pos, cut, insert in edits:
        at = pos % (len(text) + 1)
        text = text[:at] + insert + text[at + cut :]
    return text


def _load_ok_or_located(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "a.lua").write_text("return function(...) return ... end\n")
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8", errors="surrogateescape")
        try:
            load([root])
        except RegistryError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert problem.message.strip()
                assert problem.file is not None, problem.render()
                assert problem.file.endswith((".yaml", ".lua")), problem.render()


@fuzz(150)
@given(document)
def test_random_registry_documents_load_or_name_every_problem(doc: dict[str, Any]) -> None:
    """Entries with random fields and wrong types: a Registry, or problems naming the file."""
    _load_ok_or_located({"_index.yaml": yaml.safe_dump(doc)})


mutations = st.lists(
    st.tuples(
        st.integers(0, 2000),
        st.integers(0, 6),
        st.sampled_from(
            [
                "",
                ":",
                "- ",
                "{",
                "]",
                "\t",
                "'",
                '"',
                "&a ",
                "*a",
                "!!python/object:os.system ",
                "\n  ",
                "\x00",
                "---\n",
                "%YAML 9\n",
                "\udcff",
                "<<: *a\n",
            ]
        ),
    ),
    min_size=1,
    max_size=5,
)


@fuzz(150)
@given(mutations)
def test_mutated_registry_text_loads_or_names_every_problem(edits: list[Any]) -> None:
    """Broken YAML (cut, garbage, tags, anchors, bad bytes): problems name the file."""
    _load_ok_or_located({"_index.yaml": _mutate(VALID_INDEX, edits)})


# -- JSON arguments --------------------------------------------------------------------------


@fuzz(200)
@given(st.text(alphabet=st.sampled_from('[]{}":,0123456789.eE-+ \\untrlfasNIy\ud800'), max_size=40))
def test_json_arguments_parse_or_raise_a_usage_error(text: str) -> None:
    """Any argument text is a value or a UsageError with a message, never another exception."""
    try:
        from_json_text(text, source="argument 1")
    except UsageError as exc:
        assert str(exc).startswith("argument 1: ")


@pytest.mark.parametrize(
    ("argument", "status"),
    [
        ("[" * 100_000, 2),
        ("NaN", 2),
        ('"\\ud800"', 2),
        ("1" * 5000, 2),
        ('{"a": ' * 3000 + "1" + "}" * 3000, 2),
        ("[" * 200 + "]" * 200, 2),
        ("123456789012345678901234567890", 2),
        ("1e400", 2),
        ("", 2),
        ("[" * 100 + "]" * 100, 0),
        ('{"1": 1, "x": [null, null, 3]}', 0),
        ('"\\u0000\\u00ff\\uffff"', 0),
    ],
)
def test_hostile_cli_arguments_give_a_result_line_or_a_usage_error(
    argument: str, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """`orrery call` with hostile JSON: exit 0/1 with one JSON line, or 2 with a message."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:  # the CLI points the root logger at this test's captured stderr
        code = cli_main(["call", "--root", str(FUZZ), "t.fuzz:echo", argument])
    finally:
        root.handlers[:], root.level = handlers, level
    out, err = capsys.readouterr()
    assert code == status, (out, err[-500:])
    if status == 2:
        assert out == ""
        assert "orrery: " in err
        assert "Traceback" not in err
    else:
        assert len(out.splitlines()) == 1
        assert (status == 1) == out.startswith('{"error": {"kind": "Invalid"')


# -- payloads ------------------------------------------------------------------------------------

py_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=20),
)
py_values = st.recursive(
    py_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers(-3, 5)), inner, max_size=4),
    ),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@fuzz(12)
@given(st.lists(py_values, min_size=15, max_size=15))
def test_python_values_cross_into_lua_and_between_processes(batch: list[Any]) -> None:
    """Each value comes back or raises an orrery error; Lua-to-Lua copies agree with it."""

    async def run() -> None:
        async with orrery.open_node([FUZZ]) as node:
            for value in batch:
                try:
                    direct = await node.call("t.fuzz:echo", value)
                except OrreryError as exc:
                    assert exc.kind == "Invalid" and exc.message.strip()
                    continue
                assert _same(await node.call("t.fuzz:echo", direct), direct)
                assert _same(await node.call("t.fuzz:relay", value), direct)

    trio.run(run)


leaf_recipes = st.one_of(
    st.just(["nil"]),
    st.tuples(st.just("bool"), st.booleans()).map(list),
    st.tuples(st.just("int"), st.integers(-(2**63), 2**63 - 1)).map(list),
    st.tuples(st.just("float"), st.floats(allow_nan=False, allow_infinity=False)).map(list),
    st.tuples(
        st.just("special"), st.sampled_from(["nan", "inf", "ninf", "negzero", "maxint", "minint"])
    ).map(list),
    st.tuples(st.just("str"), st.text(max_size=10)).map(list),
    st.tuples(st.just("bytes"), st.lists(st.integers(0, 255), max_size=12)).map(list),
    st.tuples(st.just("huge"), st.sampled_from([0, 1 << 16, 1 << 21])).map(list),
    st.tuples(st.just("deep"), st.sampled_from([1, 100, 127, 128, 129, 5000])).map(list),
    st.tuples(st.just("err"), st.sampled_from(["NotFound", "Custom", ""]), st.text(max_size=8)).map(
        list
    ),
    st.sampled_from([["fn"], ["thread"], ["cycle"], ["mt"]]),
)
recipes = st.recursive(
    leaf_recipes,
    lambda inner: st.tuples(
        st.just("tbl"), st.lists(st.tuples(inner, inner).map(list), max_size=4)
    ).map(list),
    max_leaves=10,
)


@fuzz(12)
@given(st.lists(recipes, min_size=20, max_size=20))
def test_every_lua_value_shape_is_copied_exactly_or_refused_with_a_message(
    batch: list[Any],
) -> None:
    """Lua values of every shape (binary, NaN, deep, cyclic, functions, error objects, mixed
    keys) sent between processes arrive equal, or the send fails with an Invalid error."""

    async def run() -> None:
        async with orrery.open_node([FUZZ]) as node:
            report = await node.call("t.fuzz:shapes", batch)
        assert len(report) == len(batch)
        for recipe, entry in zip(batch, report, strict=True):
            if "error" in entry:
                assert entry["error"].startswith("Invalid: "), (recipe, entry)
                assert entry["payload"] is not True, (recipe, entry)
            else:
                assert entry["same"] is True, (recipe, entry)
                assert entry["payload"] is True, (recipe, entry)

    trio.run(run)


# -- Lua sources -------------------------------------------------------------------------------

TOKENS = [
    "local",
    "function",
    "end",
    "return",
    "if",
    "then",
    "else",
    "while",
    "do",
    "for",
    "in",
    "repeat",
    "until",
    "goto",
    "::x::",
    "x",
    "y",
    "=",
    "==",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ";",
    "..",
    "...",
    "+",
    "#",
    "1",
    "0x7fffffffffffffff",
    "1e309",
    "'s'",
    '"\\xff"',
    "[[",
    "]]",
    "--",
    "--[[",
    "nil",
    "true",
    "not",
    "and",
    "or",
    ":",
    ".",
    "process",
    "error",
    "pcall",
    "coroutine.yield",
    "string.rep",
    "setmetatable",
    "<close>",
    "<const>",
    "\n",
    "_ENV",
    "_G",
    "require",
    "'json'",
]
VALID = [
    "return function(n)\n  local t = {}\n  for i = 1, (n or 3) do t[i] = i end\n  return t\nend\n",
    "local M = {}\nfunction M.main(x)\n  return string.rep('a', 3) .. tostring(x)\nend\nreturn M\n",
    "return function()\n  local ok, e = pcall(error, {code = 1})\n  return ok, e\nend\n",
]


@fuzz(60)
@given(
    st.one_of(
        st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join),
        st.tuples(st.sampled_from(VALID), mutations).map(lambda p: _mutate(p[0], p[1])),
    )
)
def test_random_lua_sources_load_and_run_or_fail_with_a_located_error(source: str) -> None:
    """Token soup and mutated programs: a syntax error with its line, or a call that ends."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "_index.yaml").write_text(
            "version: '1.0'\nnamespace: f\nentries:\n"
            "  - {name: processes, kind: process.host, lifecycle: {auto_start: true}}\n"
            "  - {name: main, kind: function.lua, source: file://main.lua, modules: [json]}\n"
        )
        (root / "main.lua").write_text(source, encoding="utf-8", errors="surrogateescape")
        try:
            load([root])
        except RegistryError as exc:
            for problem in exc.problems:
                assert problem.file is not None and problem.file.endswith("main.lua")
                assert problem.field in ("source", "method"), problem.render()
                if "syntax error" in problem.message:
                    assert problem.line is not None, problem.render()
            return

        async def run() -> None:
            with trio.fail_after(10):
                async with orrery.open_node([root]) as node:
                    try:
                        await node.call("f:main", 2)
                    except OrreryError as exc:
                        assert exc.message.strip()

        trio.run(run)
