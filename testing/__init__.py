"""orrery.testing: test your orrery apps with pytest.

Installing orrery installs a pytest plugin (``orrery.testing._plugin``) that
runs ``async def`` tests under trio and gives them fresh nodes, probes,
virtual time and a session-wide Temporal server. The helpers below work with
or without pytest. See docs/testing.md.
"""

from __future__ import annotations

from ..runtime._errors import ExpectationFailed as ExpectationFailed
from ._nodes import open_test_node as open_test_node
from ._nodes import test_overrides as test_overrides
from ._probe import Probe as Probe
from ._temporal import TemporalTestServer as TemporalTestServer

__all__ = [
    "ExpectationFailed",
    "Probe",
    "TemporalTestServer",
    "open_test_node",
    "test_overrides",
]
