"""The conformance suite: programs driven through the public interfaces, on every host.

Each case names the app directories it loads (the shared ``base-*`` folders plus
its own) and the entry it calls. The ``host`` fixture selects where processes
run; the Temporal host joins the parametrisation when it exists, and cases
that make sense on both hosts must give the same result on both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

APPS = Path(__file__).parent / "apps"

HOSTS = ["native"]


@pytest.fixture(params=HOSTS)
def host(request: pytest.FixtureRequest) -> str:
    """The host kind a case runs on."""
    return request.param


def app(*names: str) -> list[Path]:
    """Paths of app directories under tests/conformance/apps."""
    return [APPS / n for n in names]
