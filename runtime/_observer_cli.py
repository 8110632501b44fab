"""The observer commands of the ``orrery`` CLI: ``ps``, ``tree`` and ``inspect``.

They talk to a running node through the control socket of its state dir and
print a readable table (or tree, or field list), or with ``--json`` the node's
answer as one JSON document.

Exit codes: 0 success; 1 the node answered with an error (for example no such
PID); 2 usage error; 3 no node is running with that state dir.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ._errors import NodeNotRunning, OrreryError
from ._escape import escape_controls
from ._observer_format import format_inspect, format_ps, format_tree
from ._observer_protocol import default_state_dir, request

EXIT_OK, EXIT_FAILED, EXIT_NO_NODE = 0, 1, 3

#: The commands this module adds.
COMMANDS = ("ps", "tree", "inspect")

_FORMATS: dict[str, Callable[[dict[str, Any]], str]] = {
    "ps": format_ps,
    "tree": format_tree,
    "inspect": format_inspect,
}


def add_commands(sub: Any) -> None:
    """Adds ``ps``, ``tree`` and ``inspect`` to the CLI's subparsers."""

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--state-dir",
            default=None,
            help="the state dir of the node to observe (default: .orrery, as `orrery run`)",
        )
        p.add_argument("--json", action="store_true", help="print the answer as JSON")

    common(sub.add_parser("ps", help="list the processes and workflows of a running node"))
    common(sub.add_parser("tree", help="show the services and supervision trees of a running node"))
    inspect = sub.add_parser("inspect", help="show one process or workflow of a running node")
    inspect.add_argument("pid", metavar="PID", help="a PID or a registered name")
    common(inspect)


def run_command(args: argparse.Namespace) -> int:
    """Runs ``ps``, ``tree`` or ``inspect``; returns the exit status."""
    state_dir = args.state_dir or default_state_dir()
    request_args = {"pid": args.pid} if args.command == "inspect" else {}
    try:
        result = request(state_dir, args.command, request_args)
    except NodeNotRunning as exc:
        sys.stderr.write(f"orrery {args.command}: {escape_controls(exc.message)}\n")
        return EXIT_NO_NODE
    except OrreryError as exc:
        # The message may quote a PID or name the user (or a process) wrote.
        message = escape_controls(f"{exc.kind}: {exc.message}")
        sys.stderr.write(f"orrery {args.command}: {message}\n")
        return EXIT_FAILED
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(_FORMATS[args.command](result))
    sys.stdout.flush()
    return EXIT_OK
