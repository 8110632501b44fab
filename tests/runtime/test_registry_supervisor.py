"""Registry rules of the ``process.supervisor`` kind (docs/supervision.md).

Each test writes ``app/x.yaml`` under ``tmp_path`` (the working directory) and checks the loaded
records or the rendered problem lines (docs/reference/yaml-kinds.md, "Errors").
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from orrery.runtime._errors import RegistryError
from orrery.runtime._registry import ChildSpec, Lifecycle, Registry, SupervisorEntry, load_registry

HEAD = """\
namespace: app
entries:
  - name: processes
    kind: process.host
  - name: other
    kind: process.host
  - name: w
    kind: process.lua
    source: file://main.lua
"""
#: Line of the first entry written after HEAD.
FIRST = 10


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORRERY_NODE", raising=False)


def write(entries: str) -> None:
    root = Path("app")
    root.mkdir(exist_ok=True)
    body = textwrap.indent(textwrap.dedent(entries).strip("\n"), "  ")
    (root / "x.yaml").write_text(HEAD + body + "\n")
    (root / "main.lua").write_text("return {main = function() end}\n")


def load(entries: str) -> Registry:
    write(entries)
    return load_registry(["app"])


def fails(entries: str) -> list[str]:
    """Loads entries that must fail; returns the rendered problem lines."""
    write(entries)
    with pytest.raises(RegistryError) as info:
        load_registry(["app"])
    return [line[2:] for line in str(info.value).splitlines()[1:]]


def at(line: int, entry: str, field: str, message: str, kind: str = "process.supervisor") -> str:
    return f'app/x.yaml:{line}: entry "app:{entry}" ({kind}): field "{field}": {message}'


class TestValidTrees:
    def test_fields_defaults_and_host_resolution(self) -> None:
        registry = load(
            """
            - name: g
              kind: process.supervisor
              host: processes
              children:
                - {id: a, process: w}
                - id: b
                  process: app:w
                  host: other
                  input: ["orders", {n: 1}]
                  restart: permanent
                  shutdown: 250ms
            """
        )
        entry = registry.get("app:g")
        assert isinstance(entry, SupervisorEntry)
        assert (entry.host, entry.strategy, entry.intensity, entry.period) == (
            "app:processes",
            "one_for_one",
            3,
            5.0,
        )
        assert entry.lifecycle == Lifecycle()
        assert entry.children == (
            ChildSpec(id="a", process="app:w", host="app:processes", shutdown=5.0, line=14),
            ChildSpec(
                id="b",
                process="app:w",
                host="app:other",
                input=("orders", {"n": 1}),
                restart="permanent",
                shutdown=0.25,
                line=15,
            ),
        )

    def test_nested_tree_services_parents_and_dependencies(self) -> None:
        registry = load(
            """
            - name: root
              kind: process.supervisor
              strategy: rest_for_one
              intensity: 0
              period: 1m
              lifecycle: {auto_start: true}
              children:
                - {id: a, process: w, host: processes}
                - {id: sub, supervisor: sub, restart: permanent}
            - name: sub
              kind: process.supervisor
              host: other
              lifecycle: {stop_timeout: 3s}
              children: [{id: b, process: w}]
            """
        )
        root = registry.get("app:root")
        assert isinstance(root, SupervisorEntry)
        assert (root.host, root.strategy, root.intensity, root.period) == (
            None,
            "rest_for_one",
            0,
            60.0,
        )
        assert root.children[1] == ChildSpec(
            id="sub", supervisor="app:sub", restart="permanent", shutdown=None, line=18
        )
        # The nested supervisor is run by its parent, not by the node supervisor.
        assert [e.id for e in registry.services()] == ["app:processes", "app:other", "app:root"]
        assert registry.supervisor_parent("app:sub") == ("app:root", "sub")
        assert registry.supervisor_parent("app:root") is None
        # The root depends on every host of its tree.
        assert registry.dependencies("app:root") == ("app:processes", "app:other")

    def test_workflow_entries_may_be_children(self) -> None:
        registry = load(
            """
            - name: flow
              kind: workflow.lua
              source: file://main.lua
            - name: g
              kind: process.supervisor
              children: [{id: f, process: flow, host: processes}]
            """
        )
        entry = registry.get("app:g")
        assert isinstance(entry, SupervisorEntry)
        assert entry.children[0].process == "app:flow"


class TestFieldRules:
    def test_group_fields(self) -> None:
        assert fails(
            """
            - name: g
              kind: process.supervisor
              host: processes
              strategy: rest_for_on
              intensity: -1
              period: 5
              children: []
            """
        ) == [
            at(
                FIRST + 3,
                "g",
                "strategy",
                'invalid value "rest_for_on" (did you mean "rest_for_one"?); '
                'expected one of "one_for_one", "one_for_all", "rest_for_one"',
            ),
            at(FIRST + 4, "g", "intensity", "must be at least 0 (got -1)"),
            at(
                FIRST + 5,
                "g",
                "period",
                'invalid duration 5 (durations must be strings such as "5s")',
            ),
            at(
                FIRST + 6,
                "g",
                "children",
                "must not be empty (a supervisor needs at least one child)",
            ),
        ]

    def test_children_are_required(self) -> None:
        assert fails("- {name: g, kind: process.supervisor, host: processes}") == [
            at(FIRST, "g", "children", "required field is missing")
        ]

    def test_period_must_be_positive(self) -> None:
        assert fails(
            "- {name: g, kind: process.supervisor, host: other, period: 0s,"
            " children: [{id: a, process: w}]}"
        ) == [
            at(FIRST, "g", "period", 'must be greater than 0 (got "0s")'),
        ]

    def test_child_fields(self) -> None:
        assert fails(
            """
            - name: g
              kind: process.supervisor
              host: processes
              children:
                - id: a
                  process: w
                  restart: sometimes
                  shutdwn: 1s
                - {id: a, process: w}
                - {id: "bad id", process: w}
                - {id: both, process: w, supervisor: sub}
                - {id: neither}
                - {process: w}
                - just a string
                - {id: s, supervisor: sub, host: other, input: [1]}
            """
            + TestTreeRules.SUB
        ) == [
            at(
                FIRST + 6,
                "g",
                "children[0].restart",
                'invalid value "sometimes"; expected one of "permanent", "transient", "temporary"',
            ),
            at(FIRST + 7, "g", "children[0].shutdwn", 'unknown field (did you mean "shutdown"?)'),
            at(FIRST + 8, "g", "children[1].id", 'duplicate child id "a" (also children[0])'),
            at(
                FIRST + 9,
                "g",
                "children[2].id",
                'invalid child id "bad id" (letters, digits, "_", "." and "-"; '
                'not starting with "." or "-")',
            ),
            at(
                FIRST + 10,
                "g",
                "children[3].supervisor",
                "a child runs either a process or a supervisor, not both",
            ),
            at(
                FIRST + 11,
                "g",
                "children[4].process",
                "required field is missing (a child needs either process or supervisor)",
            ),
            at(FIRST + 12, "g", "children[5].id", "required field is missing"),
            at(
                FIRST + 13,
                "g",
                "children[6]",
                'expected a child mapping, got a string ("just a string")',
            ),
            at(
                FIRST + 14,
                "g",
                "children[7].host",
                "not allowed on a supervisor child (the nested supervisor's own children have "
                "their host)",
            ),
            at(
                FIRST + 14,
                "g",
                "children[7].input",
                "not allowed on a supervisor child (the nested supervisor's own children have "
                "their input)",
            ),
        ]

    def test_process_child_needs_a_host(self) -> None:
        assert fails(
            """
            - name: g
              kind: process.supervisor
              children:
                - {id: a, process: w, host: other}
                - {id: b, process: w}
            """
        ) == [
            at(
                FIRST + 4,
                "g",
                "children[1].host",
                "required field is missing (the child has no host, and the supervisor has no "
                "host for its children)",
            )
        ]

    def test_references_are_checked(self) -> None:
        assert fails(
            """
            - name: f
              kind: function.lua
              source: file://main.lua
            - {name: c, kind: temporal.client, address: "x:1"}
            - {name: tw, kind: temporal.worker, client: c, task_queue: q}
            - {name: svc, kind: process.service, process: w, host: processes}
            - name: g
              kind: process.supervisor
              host: tw
              children:
                - {id: a, process: f, host: processes}
                - {id: b, supervisor: svc}
                - {id: c, process: nope, host: processes}
            """
        ) == [
            at(
                FIRST + 8,
                "g",
                "host",
                '"app:tw" is a temporal.worker; supervised children run only on a process.host '
                "(workflows are supervised by Temporal, not by orrery)",
            ),
            at(
                FIRST + 10,
                "g",
                "children[0].process",
                '"app:f" is a function.lua, expected process.lua or workflow.lua',
            ),
            at(
                FIRST + 11,
                "g",
                "children[1].supervisor",
                '"app:svc" is a process.service, expected process.supervisor',
            ),
            at(FIRST + 12, "g", "children[2].process", '"app:nope" does not exist'),
        ]


class TestTreeRules:
    SUB = """
            - name: sub
              kind: process.supervisor
              host: processes
              children: [{id: x, process: w}]
    """

    def test_nested_supervisor_cannot_be_auto_start(self) -> None:
        assert fails(
            """
            - name: root
              kind: process.supervisor
              children: [{id: n, supervisor: sub}]
            - name: sub
              kind: process.supervisor
              host: processes
              children: [{id: x, process: w}]
              lifecycle: {auto_start: true, stop_timeout: 3s}
            """
        ) == [
            at(
                FIRST + 3,
                "sub",
                "lifecycle.auto_start",
                'app:sub is the child "n" of supervisor app:root, which starts it; it cannot be '
                "auto_start on its own",
            )
        ]

    def test_nested_supervisor_lifecycle_fields_that_have_no_effect(self) -> None:
        lines = fails(
            """
            - name: root
              kind: process.supervisor
              children: [{id: n, supervisor: sub}]
            - name: sub
              kind: process.supervisor
              host: processes
              children: [{id: x, process: w}]
              lifecycle:
                requires: [other]
                start_timeout: 1s
                stable_threshold: 1s
                restart: {max_attempts: 2}
            """
        )
        suffix = (
            'has no effect on a nested supervisor (app:sub is the child "n" of supervisor '
            "app:root, which starts, restarts and stops it); remove it"
        )
        assert lines == [
            at(FIRST + 3, "sub", f"lifecycle.{name}", suffix)
            for name in ("requires", "start_timeout", "stable_threshold", "restart")
        ]

    def test_one_parent_only(self) -> None:
        assert fails(
            """
            - name: a
              kind: process.supervisor
              children: [{id: n, supervisor: sub}]
            - name: b
              kind: process.supervisor
              children:
                - {id: m, supervisor: sub}
                - {id: again, supervisor: sub}
            """
            + self.SUB
        ) == [
            at(
                FIRST + 6,
                "b",
                "children[0].supervisor",
                '"app:sub" is already the child "n" of app:a; a supervisor has at most one parent',
            ),
            at(
                FIRST + 7,
                "b",
                "children[1].supervisor",
                '"app:sub" is already the child "n" of app:a; a supervisor has at most one parent',
            ),
        ]

    def test_nesting_cycle_is_named(self) -> None:
        assert fails(
            """
            - name: l1
              kind: process.supervisor
              children: [{id: x, supervisor: l2}]
            - name: l2
              kind: process.supervisor
              children: [{id: y, supervisor: l3}]
            - name: l3
              kind: process.supervisor
              children: [{id: z, supervisor: l1}]
            """
        ) == [
            at(
                FIRST + 2,
                "l1",
                "children[0].supervisor",
                "supervisor nesting cycle: app:l1 -> app:l2 -> app:l3 -> app:l1",
            )
        ]

    def test_supervisor_nested_in_itself(self) -> None:
        assert fails(
            """
            - name: s
              kind: process.supervisor
              children: [{id: me, supervisor: s}]
            """
        ) == [
            at(FIRST + 2, "s", "children[0].supervisor", "supervisor nesting cycle: app:s -> app:s")
        ]

    def test_services_cannot_require_a_nested_supervisor(self) -> None:
        assert fails(
            """
            - name: root
              kind: process.supervisor
              children: [{id: n, supervisor: mid}]
            - name: mid
              kind: process.supervisor
              children: [{id: m, supervisor: sub}]
            - name: svc
              kind: process.service
              process: w
              host: processes
              lifecycle: {requires: [sub, root]}
            """
            + self.SUB
        ) == [
            at(
                FIRST + 6,
                "svc",
                "lifecycle.requires",
                '"app:sub" is a nested supervisor (the child "m" of app:mid), not a service of '
                "its own; require app:root",
                kind="process.service",
            )
        ]

    def test_cycle_through_the_hosts_of_a_tree(self) -> None:
        """A host that requires the supervisor its tree runs on is a dependency cycle."""
        write(
            """
            - name: h
              kind: process.host
              lifecycle: {requires: [root]}
            - name: root
              kind: process.supervisor
              children: [{id: n, supervisor: sub}]
            - name: sub
              kind: process.supervisor
              children: [{id: x, process: w, host: h}]
            """
        )
        with pytest.raises(RegistryError) as info:
            load_registry(["app"])
        assert [p.message for p in info.value.problems] == [
            "dependency cycle: app:h -> app:root -> app:sub -> app:h"
        ]
