"""The node supervisor: services, restart policy, start and stop ordering.

See docs/reference/services.md.

The node turns every registry entry with a ``lifecycle`` block into a :class:`ServiceSpec` whose
``factory`` makes one :class:`ServiceRun` per start attempt, and hands the specs to a
:class:`ServiceSupervisor`::

    sup = ServiceSupervisor(specs)
    async with trio.open_nursery() as nursery:
        await sup.boot(nursery)          # returns when boot completes, or raises BootFailed
        ...
        await sup.shutdown(timeout=30)   # dependents first; never hangs

A ``process.supervisor`` entry is a service whose run is a :class:`GroupRun`: a group of
children with an OTP strategy, restart types and a restart intensity (``docs/supervision.md``).

Transitions are logged on the ``orrery.supervision`` logger.
"""

from __future__ import annotations

from ..runtime._exports import publish
from ._group import GroupRun as GroupRun
from ._group_spec import ChildInfo as ChildInfo
from ._group_spec import ChildState as ChildState
from ._group_spec import GroupChild as GroupChild
from ._group_spec import GroupInfo as GroupInfo
from ._group_spec import GroupSpec as GroupSpec
from ._group_spec import ProcessStarter as ProcessStarter
from ._group_spec import ProcessTarget as ProcessTarget
from ._group_spec import RestartType as RestartType
from ._group_spec import Strategy as Strategy
from ._policy import RestartDecision as RestartDecision
from ._policy import RestartPolicy as RestartPolicy
from ._policy import decide_restart as decide_restart
from ._protocol import BootFailed as BootFailed
from ._protocol import RunOutcome as RunOutcome
from ._protocol import ServiceInfo as ServiceInfo
from ._protocol import ServiceRun as ServiceRun
from ._protocol import ServiceSpec as ServiceSpec
from ._protocol import ServiceState as ServiceState
from ._service import LOGGER_NAME as LOGGER_NAME
from ._supervisor import ServiceSupervisor as ServiceSupervisor

__all__ = [
    "LOGGER_NAME",
    "BootFailed",
    "ChildInfo",
    "ChildState",
    "GroupChild",
    "GroupInfo",
    "GroupRun",
    "GroupSpec",
    "ProcessStarter",
    "ProcessTarget",
    "RestartDecision",
    "RestartPolicy",
    "RestartType",
    "RunOutcome",
    "ServiceInfo",
    "ServiceRun",
    "ServiceSpec",
    "ServiceState",
    "ServiceSupervisor",
    "Strategy",
    "decide_restart",
]

publish(__name__, globals(), __all__)
