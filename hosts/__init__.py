"""Hosts carry out the operations of Lua processes: natively on trio, or durably on Temporal."""

from __future__ import annotations

from ..runtime._exports import publish
from ._native import ExitResult as ExitResult
from ._native import Mailbox as Mailbox
from ._native import NativeRuntime as NativeRuntime
from ._native import RemoteRouter as RemoteRouter

__all__ = ["ExitResult", "Mailbox", "NativeRuntime", "RemoteRouter"]

# ExitResult and Mailbox are published by `orrery` itself, where the docs show them.
publish(__name__, globals(), ["NativeRuntime", "RemoteRouter"])
