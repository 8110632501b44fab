"""orrery.testing: test your orrery apps with pytest.

Installing orrery installs a pytest plugin (``orrery.testing._plugin``) that
runs ``async def`` tests under trio and gives them fresh nodes, probes,
virtual time and a session-wide Temporal server. The helpers below work with
or without pytest. See docs/testing.md.
"""

from __future__ import annotations

from ..hosts.temporal._replay import ReplayOutcome as ReplayOutcome
from ..runtime._errors import ExpectationFailed as ExpectationFailed
from ..runtime._exports import publish
from ._histories import assert_replays as assert_replays
from ._histories import fetch_histories as fetch_histories
from ._histories import load_histories as load_histories
from ._histories import replay_histories as replay_histories
from ._histories import save_histories as save_histories
from ._nodes import node_overrides as node_overrides
from ._nodes import open_test_node as open_test_node
from ._probe import Probe as Probe
from ._temporal import TemporalTestServer as TemporalTestServer

__all__ = [
    "ExpectationFailed",
    "Probe",
    "ReplayOutcome",
    "TemporalTestServer",
    "assert_replays",
    "fetch_histories",
    "load_histories",
    "node_overrides",
    "open_test_node",
    "replay_histories",
    "save_histories",
]

publish(__name__, globals(), __all__)
