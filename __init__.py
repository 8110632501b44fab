"""orrery: Erlang-style actors written in Lua, on pluggable hosts.

A process is a small Lua program with a PID and a mailbox. Spawned on a
``process.host`` it runs natively, in memory, on trio; spawned on a
``temporal.worker`` the same code runs as a durable Temporal workflow.

The embedding API::

    import orrery, trio

    async def main():
        async with orrery.open_node(["app/"]) as node:
            print(await node.call("app:main", 1, 2))

    trio.run(main)
"""

from __future__ import annotations

from . import errors as errors
from .hosts._native import ExitResult as ExitResult
from .hosts._native import Mailbox as Mailbox
from .hosts._native import MailboxItem as MailboxItem
from .runtime._codec import ErrorValue as ErrorValue
from .runtime._exports import publish
from .runtime._logging import JsonFormatter as JsonFormatter
from .runtime._logging import configure_logging as configure_logging
from .runtime._node import Node as Node
from .runtime._node import open_node as open_node

__version__ = "0.1.0"

__all__ = [
    "ErrorValue",
    "ExitResult",
    "JsonFormatter",
    "Mailbox",
    "MailboxItem",
    "Node",
    "configure_logging",
    "errors",
    "open_node",
]

publish(__name__, globals(), __all__)
