"""OpenTelemetry spans for spawn, exit, send and restart (needs opentelemetry-sdk)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import orrery
import pytest
import trio

from ._node import APPS

sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
export = pytest.importorskip("opentelemetry.sdk.trace.export")
in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")


async def test_spawn_exit_send_and_restart_become_spans(tmp_path: Path) -> None:
    exporter = in_memory.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    restarted = trio.Event()

    class Watch(logging.Handler):  # the hub logs when crew member "first" came back
        def emit(self, record: logging.LogRecord) -> None:
            if "crew member first restarted" in record.getMessage():
                restarted.set()

    watch, lua_log = Watch(), logging.getLogger("orrery.lua")
    saved_level = lua_log.level
    lua_log.setLevel(logging.INFO)
    lua_log.addHandler(watch)
    try:
        async with orrery.open_node(
            [APPS / "watch"], state_dir=tmp_path, tracing=True, tracer_provider=provider
        ) as node:
            assert await node.exec("watch:say", "watch:procs", "hi") == "hi"
            with trio.fail_after(10):
                await restarted.wait()
    finally:
        lua_log.removeHandler(watch)
        lua_log.setLevel(saved_level)
    spans = exporter.get_finished_spans()
    processes = [s for s in spans if s.name == "orrery.process"]
    by_entry: dict[str, list] = {}
    for span in processes:
        by_entry.setdefault(span.attributes["orrery.entry"], []).append(span)
    hub = by_entry["watch:hub"][0]
    assert hub.attributes["orrery.host"] == "watch:procs"
    assert hub.attributes["orrery.pid"].startswith("{local@watch:procs|")
    # children spawned by the hub are children of its span
    peers = by_entry["watch:peer"]
    assert len(peers) == 2 and all(p.parent.span_id == hub.context.span_id for p in peers)
    (doomed,) = by_entry["watch:doomed"]
    assert doomed.status.status_code.name == "ERROR"
    assert doomed.attributes["orrery.error.kind"] == "Internal"
    assert "doomed on purpose" in doomed.attributes["orrery.error.message"]
    assert by_entry["watch:say"][0].status.status_code.name == "UNSET"
    crashed = [s for s in by_entry["watch:member"] if s.status.status_code.name == "ERROR"]
    assert len(crashed) == 1 and "first crashed" in crashed[0].status.description

    sends = [s for s in spans if s.name == "orrery.send"]
    crash = next(s for s in sends if s.attributes["orrery.topic"] == "crash")
    assert crash.attributes["orrery.from"] == hub.attributes["orrery.pid"]
    assert crash.parent.span_id == hub.context.span_id
    unread = [s for s in sends if s.attributes["orrery.topic"] == "unread"]
    assert len(unread) == 2

    (restart,) = [s for s in spans if s.name == "orrery.restart"]
    assert dict(restart.attributes) == {
        "orrery.service": "watch:crew",
        "orrery.child": "first",
        "orrery.restarts": 1,
        "orrery.error": crashed[0].status.description,
    }


SCRIPT = """
import sys
if {block}:
    sys.modules["opentelemetry"] = None  # as if it were not installed
import orrery, trio

async def main():
    options = {{}} if {tracing} == "default" else {{"tracing": {tracing}}}
    async with orrery.open_node([{app!r}], state_dir={state!r}, **options) as node:
        print(await node.exec("watch:say", "watch:procs", "plain"), node.tracer)
    print(sorted(m for m, v in sys.modules.items() if m.startswith("opentelemetry") and v))
    try:
        async with orrery.open_node([{app!r}], state_dir={state!r}, tracing=True):
            print("traced")
    except orrery.errors.Unavailable as exc:
        print(exc)

trio.run(main)
"""


def run_script(tmp_path: Path, *, block: bool, tracing: bool | str) -> list[str]:
    script = SCRIPT.format(block=block, app=str(APPS / "watch"), state=str(tmp_path),
                           tracing=tracing)  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_without_opentelemetry_nodes_run_untraced_and_tracing_true_says_what_to_install(
    tmp_path: Path,
) -> None:
    plain, modules, error = run_script(tmp_path, block=True, tracing="'default'")
    assert plain == "plain None"
    assert modules == "[]"
    assert "pip install 'orrery[otel]'" in error


def test_tracing_off_does_not_import_opentelemetry(tmp_path: Path) -> None:
    plain, modules, traced = run_script(tmp_path, block=False, tracing=False)
    assert (plain, modules, traced) == ("plain None", "[]", "traced")


def test_tracing_is_off_by_default_even_with_opentelemetry_installed(tmp_path: Path) -> None:
    """Tracing costs a Lua -> Python call per send: a node traces only when asked to."""
    plain, modules, traced = run_script(tmp_path, block=False, tracing="'default'")
    assert (plain, modules, traced) == ("plain None", "[]", "traced")


def test_orrery_run_trace_turns_tracing_on(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "orrery", "run", str(APPS / "watch"), "--state-dir",
         str(tmp_path), "--exec", "watch:say", "--input", '"traced"', "--trace",
         "--log-level", "debug"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '"traced"'
    assert "tracing spawn, exit, send and restarts" in done.stderr
