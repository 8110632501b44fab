"""Helpers shared by the conformance cases beyond the spec examples.

Every case app has a ``function.lua`` entry ``<ns>:cases`` whose ``main(case, ...)``
runs one named scenario and returns what it observed; the Python test compares
that with what the specification promises. Cases that take the ``host`` fixture
receive the host entry ID as their first argument and spawn the processes under
test there, so the same scenario can run on every host kind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orrery

from .conftest import app

#: The app folders that define each host kind, and the entry ID of that host.
BASE = {"native": ("base-native",), "temporal": ("base-native", "base-temporal")}
HOST_ENTRY = {"native": "app:processes", "temporal": "app:worker"}
#: Overrides per host kind. On the Temporal host every case talks to the one
#: session-wide server (see conftest.py) on a task queue of its own.
OVERRIDES: dict[str, list[str]] = {"native": [], "temporal": []}


def use_temporal_server(address: str, task_queue: str) -> None:
    """Points the Temporal host's cases at ``address``, isolated on ``task_queue``."""
    OVERRIDES["temporal"][:] = [
        f'app:temporal:address="{address}"',
        "app:temporal:dev_server.enabled=false",
        f'app:worker:task_queue="{task_queue}"',
    ]


#: The native host, for cases that only make sense natively.
NATIVE = HOST_ENTRY["native"]


def dirs(host: str, *names: str) -> list[Path]:
    """The app directories of a case on ``host``."""
    return app(*BASE[host], *names)


async def run_case(folder: str, case: str, *args: Any, host: str = "native") -> Any:
    """Boots a node with ``folder`` on ``host`` and runs ``<ns>:cases`` with ``case``.

    The namespace of every case app is ``t.<folder>``; ``host`` picks the base app
    folder (the case's own arguments name the host entry when it needs one).
    """
    async with orrery.open_node(dirs(host, folder), OVERRIDES[host]) as node:
        return await node.call(f"t.{folder}:cases", case, *args)


async def run_on_host(folder: str, case: str, host: str, *args: Any) -> Any:
    """Runs ``case`` with the entry ID of ``host`` as its first argument."""
    return await run_case(folder, case, HOST_ENTRY[host], *args, host=host)
