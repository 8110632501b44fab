"""The ``orrery`` command line (docs/reference/cli.md).

Exit codes: 0 success, 1 the process or function failed (one JSON line on
stdout ``{"error": {"kind": ..., "message": ...}}``), 2 configuration or usage
errors (message on stderr, nothing on stdout). Logs always go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

from ._codec import from_json_text, to_json_text
from ._errors import OrreryError, RegistryError, UsageError
from ._logging import configure_logging
from ._node import load, open_node, uses_state_dir
from ._observer_cli import COMMANDS as OBSERVER_COMMANDS
from ._observer_cli import add_commands as add_observer_commands
from ._observer_cli import run_command as run_observer_command
from ._registry import Registry
from ._state_dir import prepare_state_dir

_log = logging.getLogger("orrery.cli")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orrery", description="Erlang-style actors in Lua.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--override", action="append", default=[], metavar="NS:ENTRY:FIELD=VALUE")
        p.add_argument("--state-dir", default=None)
        p.add_argument(
            "--log-level", default="info", choices=["debug", "info", "warning", "warn", "error"]
        )
        p.add_argument("--log-format", default="text", choices=["text", "json"])

    run = sub.add_parser("run", help="boot a node (and optionally run one process)")
    run.add_argument("roots", nargs="*", default=None)
    run.add_argument("--exec", dest="exec_entry", default=None, metavar="ENTRY")
    run.add_argument("--host", default=None)
    run.add_argument("--input", default=None, metavar="JSON")
    run.add_argument(
        "--trace",
        action="store_true",
        help="trace spawn, exit, send and restarts with OpenTelemetry (needs orrery[otel])",
    )
    common(run)

    call = sub.add_parser("call", help="call a function.lua entry")
    call.add_argument("--root", action="append", default=[], dest="roots")
    call.add_argument("entry")
    call.add_argument("args", nargs="*", metavar="JSON_ARG")
    common(call)

    check = sub.add_parser("check", help="validate every entry and compile every Lua source")
    check.add_argument("roots", nargs="*", default=None)
    add_observer_commands(sub)
    return parser


def _print_result(value: Any) -> int:
    try:
        line = to_json_text(value)
    except OrreryError as exc:
        return _print_error(exc.kind, exc.message)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return EXIT_OK


def _print_error(kind: str, message: str) -> int:
    sys.stdout.write(
        json.dumps({"error": {"kind": kind, "message": message}}, ensure_ascii=False) + "\n"
    )
    sys.stdout.flush()
    return EXIT_FAILED


def _usage(message: str) -> int:
    sys.stderr.write(f"orrery: {message}\n")
    return EXIT_USAGE


def _state_dir_hint(exc: UsageError, args: argparse.Namespace) -> str:
    """The state dir problem, with what to do about it."""
    where = "--state-dir" if args.state_dir else "--state-dir (default: .orrery in the first root)"
    return f"{exc.message}; pass a directory the node can write to with {where}"


def _roots(values: Sequence[str] | None) -> list[str]:
    return list(values) if values else ["."]


def _check(roots: list[str]) -> int:
    try:
        registry = load(roots)
    except RegistryError as exc:
        sys.stderr.write(str(exc) + "\n")
        return EXIT_USAGE
    sys.stderr.write(f"registry is valid: {len(registry.entries)} entries\n")
    return EXIT_OK


async def _wait_for_signal(nursery: trio.Nursery) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            _log.info("received %s, stopping", signal.Signals(signum).name)
            nursery.cancel_scope.cancel()
            return


def _pick_host(registry: Registry, host: str | None) -> str:
    if host is not None:
        entry = registry.get(host)
        if entry is None:
            raise UsageError(f"unknown host {host}")
        if entry.kind not in ("process.host", "temporal.worker"):
            raise UsageError(f"{host} is a {entry.kind}, not a process.host or temporal.worker")
        return host
    hosts = registry.of_kind("process.host")
    if len(hosts) == 1:
        return hosts[0].id
    if not hosts:
        raise UsageError("--host is required: the registry has no process.host")
    raise UsageError(
        "--host is required: the registry has several process.host entries: "
        + ", ".join(h.id for h in hosts)
    )


async def _run(args: argparse.Namespace) -> int:
    roots = _roots(args.roots)
    try:
        registry = load(roots, args.override)
    except RegistryError as exc:
        return _usage(str(exc))
    state_dir = args.state_dir or str(Path(roots[0]) / ".orrery")
    try:
        prepare_state_dir(state_dir)  # the node serves its control socket there
    except UsageError as exc:
        return _usage(_state_dir_hint(exc, args))
    entry = host = None
    inputs: list[Any] = []
    if args.exec_entry is not None:
        try:
            entry = registry.require(args.exec_entry, "process.lua", "workflow.lua")
            host = _pick_host(registry, args.host)
            inputs = [] if args.input is None else [from_json_text(args.input, source="--input")]
        except OrreryError as exc:
            return _usage(str(exc))

    code: int | None = EXIT_OK if entry is None else None
    # The signal receiver is in place before boot: SIGINT/SIGTERM at any moment
    # cancels what is running, and open_node then stops the services in order.
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_wait_for_signal, nursery)
        async with open_node(
            roots, registry=registry, state_dir=state_dir, control=True, tracing=args.trace
        ) as node:
            if entry is None:
                _log.info(
                    "node %s is running (%d services); Ctrl-C stops it",
                    registry.config.node_name,
                    len(node.services()),
                )
                await trio.sleep_forever()
            assert host is not None
            try:
                result = await node.run_process(entry.id, host, *inputs)
            except OrreryError as exc:
                code = _print_error(exc.kind, exc.message)
            else:
                if result.error is not None:
                    code = _print_error(result.error.kind, result.error.message)
                else:
                    code = _print_result(result.value)
        nursery.cancel_scope.cancel()
    if code is None:  # a signal stopped the node before the process ended
        return _print_error("Canceled", "interrupted before the process finished")
    return code


async def _call(args: argparse.Namespace) -> int:
    roots = _roots(args.roots)
    try:
        registry = load(roots, args.override)
        registry.require(args.entry, "function.lua")
        values = [from_json_text(a, source=f"argument {i}") for i, a in enumerate(args.args, 1)]
    except OrreryError as exc:
        return _usage(str(exc))
    state_dir = args.state_dir or str(Path(roots[0]) / ".orrery")
    if uses_state_dir(registry):
        try:
            prepare_state_dir(state_dir)
        except UsageError as exc:
            return _usage(_state_dir_hint(exc, args))
    result = None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_wait_for_signal, nursery)
        async with open_node(roots, registry=registry, state_dir=state_dir) as node:
            result = await node.native.call(args.entry, values)
        nursery.cancel_scope.cancel()
    if result is None:  # a signal stopped the node before the call finished
        return _print_error("Canceled", "interrupted before the call finished")
    if result.error is not None:
        return _print_error(result.error.kind, result.error.message)
    return _print_result(result.value)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``orrery`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command in OBSERVER_COMMANDS:
        return run_observer_command(args)
    if args.command == "check":
        configure_logging("warning", "text")
        return _check(_roots(args.roots))
    configure_logging(args.log_level, args.log_format)
    runner = _run if args.command == "run" else _call
    try:
        return trio.run(runner, args)
    except OrreryError as exc:
        return _usage(str(exc))
    except KeyboardInterrupt:
        return EXIT_OK


def entry_point() -> None:
    """Console-script entry: exit with :func:`main`'s status."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code) if os.environ.get("ORRERY_HARD_EXIT") else sys.exit(code)
