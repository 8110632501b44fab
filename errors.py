"""The exception hierarchy of orrery (one tree, rooted at :class:`OrreryError`).

Every exception carries the same ``kind``, ``message`` and ``retryable`` a Lua
caller would see on the equivalent error object.
"""

from __future__ import annotations

from .runtime._errors import KINDS as KINDS
from .runtime._errors import AlreadyExists as AlreadyExists
from .runtime._errors import Canceled as Canceled
from .runtime._errors import Conflict as Conflict
from .runtime._errors import ExpectationFailed as ExpectationFailed
from .runtime._errors import InternalError as InternalError
from .runtime._errors import InvalidError as InvalidError
from .runtime._errors import NodeNotRunning as NodeNotRunning
from .runtime._errors import NondeterminismError as NondeterminismError
from .runtime._errors import NotFound as NotFound
from .runtime._errors import OrreryError as OrreryError
from .runtime._errors import OrreryInternalError as OrreryInternalError
from .runtime._errors import PermissionDenied as PermissionDenied
from .runtime._errors import Problem as Problem
from .runtime._errors import RateLimited as RateLimited
from .runtime._errors import RegistryError as RegistryError
from .runtime._errors import Timeout as Timeout
from .runtime._errors import Unavailable as Unavailable
from .runtime._errors import UsageError as UsageError
from .runtime._errors import error_for as error_for
from .runtime._exports import publish

__all__ = [
    "KINDS",
    "AlreadyExists",
    "Canceled",
    "Conflict",
    "ExpectationFailed",
    "InternalError",
    "InvalidError",
    "NodeNotRunning",
    "NondeterminismError",
    "NotFound",
    "OrreryError",
    "OrreryInternalError",
    "PermissionDenied",
    "Problem",
    "RateLimited",
    "RegistryError",
    "Timeout",
    "Unavailable",
    "UsageError",
    "error_for",
]

publish(__name__, globals(), __all__)
