"""Registry rules of the ``mailbox`` block of Lua entries (docs/mailboxes.md).

Each test writes ``app/x.yaml`` under ``tmp_path`` (the working directory) and checks the loaded
records or the rendered problem lines (docs/reference/yaml-kinds.md, "Errors").
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from orrery.runtime._errors import RegistryError
from orrery.runtime._registry import LuaEntry, load_registry
from orrery.runtime._registry_model import MailboxBound, MailboxSpec

HEAD = "namespace: app\nentries:\n"


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


def mailbox_of(entries: str, entry: str = "app:p") -> MailboxSpec | None:
    write(entries)
    found = load_registry(["app"]).get(entry)
    assert isinstance(found, LuaEntry)
    return found.mailbox


def fails(entries: str) -> list[str]:
    """Loads entries that must fail; returns the rendered problem lines."""
    write(entries)
    with pytest.raises(RegistryError) as info:
        load_registry(["app"])
    return [line[2:] for line in str(info.value).splitlines()[1:]]


def at(line: int, field: str, message: str, kind: str = "process.lua", entry: str = "p") -> str:
    return f'app/x.yaml:{line}: entry "app:{entry}" ({kind}): field "{field}": {message}'


class TestValid:
    def test_no_mailbox_block_means_unbounded(self) -> None:
        assert mailbox_of("- {name: p, kind: process.lua, source: file://main.lua}") is None

    def test_topics_inherit_the_mailbox_overflow_and_block_is_the_default(self) -> None:
        spec = mailbox_of(
            """
            - name: p
              kind: process.lua
              source: file://main.lua
              mailbox:
                capacity: 100
                topics:
                  metrics: {capacity: 10}
                  jobs: {capacity: 5, overflow: fail}
            """
        )
        assert spec == MailboxSpec(
            capacity=100,
            overflow="block",
            topics={
                "metrics": MailboxBound(capacity=10, overflow="block"),
                "jobs": MailboxBound(capacity=5, overflow="fail"),
            },
        )

    def test_workflow_entries_take_a_mailbox_block_too(self) -> None:
        spec = mailbox_of(
            """
            - name: p
              kind: workflow.lua
              source: file://main.lua
              mailbox: {capacity: 7, overflow: drop_oldest}
            """
        )
        assert spec == MailboxSpec(capacity=7, overflow="drop_oldest")


class TestProblems:
    def test_bad_values_name_the_field(self) -> None:
        assert fails(
            """
            - name: p
              kind: process.lua
              source: file://main.lua
              mailbox:
                capacity: 0
                overflow: drop_new
                topics:
                  "@inbox": {capacity: 1}
                  jobs: {overflow: fail}
                  metrics: {capacity: 2, size: 3}
                  logs: 5
            """
        ) == [
            at(7, "mailbox.capacity", "must be at least 1 (got 0)"),
            at(
                8,
                "mailbox.overflow",
                'invalid value "drop_new"; expected one of '
                '"block", "drop_newest", "drop_oldest", "fail"',
            ),
            at(
                10, "mailbox.topics.@inbox", "topics are non-empty strings that do not start with @"
            ),
            at(11, "mailbox.topics.jobs.capacity", "required field is missing"),
            at(
                12,
                "mailbox.topics.metrics.size",
                "unknown field (known fields: capacity, overflow)",
            ),
            at(
                13,
                "mailbox.topics.logs",
                "expected a mapping such as {capacity: 100}, got an integer (5)",
            ),
        ]

    def test_a_mailbox_without_any_bound_is_refused(self) -> None:
        assert fails(
            """
            - name: p
              kind: process.lua
              source: file://main.lua
              mailbox: {overflow: fail}
            """
        ) == [
            at(
                6,
                "mailbox",
                "needs a capacity or topics; leave the mailbox block out for an unbounded mailbox",
            )
        ]

    def test_mailbox_must_be_a_mapping_and_unknown_fields_are_named(self) -> None:
        assert fails(
            """
            - name: p
              kind: process.lua
              source: file://main.lua
              mailbox: 100
            - name: q
              kind: process.lua
              source: file://main.lua
              mailbox: {capacity: 1, overflw: fail}
            """
        ) == [
            at(
                6,
                "mailbox",
                "expected a mapping such as {capacity: 1000, overflow: block}, "
                "got an integer (100)",
            ),
            at(10, "mailbox.overflw", 'unknown field (did you mean "overflow"?)', entry="q"),
        ]

    def test_function_entries_have_no_mailbox(self) -> None:
        lines = fails(
            """
            - name: p
              kind: function.lua
              source: file://main.lua
              mailbox: {capacity: 1}
            """
        )
        assert lines == [
            at(
                6,
                "mailbox",
                "function.lua entries have no mailbox setting (a function frame lives for one "
                "call); bound the mailbox of the process.lua or workflow.lua entry that receives "
                "messages",
                kind="function.lua",
            )
        ]
