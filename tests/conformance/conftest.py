"""The conformance suite: programs driven through the public interfaces, on every host.

Each case names the app directories it loads (the shared ``base-*`` folders plus
its own) and the entry it calls. The ``host`` fixture selects where processes
run; the Temporal host joins the parametrisation when it exists, and cases
that make sense on both hosts must give the same result on both. Temporal
cases share the session server of orrery's pytest plugin (``temporal_server``,
with the ``CustomerId`` search attribute from pyproject's ini options).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

APPS = Path(__file__).parent / "apps"

HOSTS = ["native", "temporal"]


_queues = itertools.count(1)


@pytest.fixture(params=HOSTS)
def host(request: pytest.FixtureRequest) -> str:
    """The host kind a case runs on; Temporal cases share the session server."""
    if request.param == "temporal":
        from ._support import use_temporal_server

        server = request.getfixturevalue("temporal_server")  # orrery.testing's session server
        use_temporal_server(server.address, f"conformance-{next(_queues)}")
    return request.param


def app(*names: str) -> list[Path]:
    """Paths of app directories under tests/conformance/apps."""
    return [APPS / n for n in names]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Virtual-time cases run on the native host only.

    trio's MockClock can jump the node's timers, but not the clock of a real
    Temporal server, so on the Temporal host such a case would wait forever.
    """
    skip = pytest.mark.skip(reason="virtual time (autojump) cannot drive a real Temporal server")
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_temporal = callspec is not None and callspec.params.get("host") == "temporal"
        if on_temporal and item.get_closest_marker("autojump"):
            item.add_marker(skip)
