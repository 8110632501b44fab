"""Test support: ``async def`` tests run under trio.

``@pytest.mark.autojump`` gives a test virtual time (trio's MockClock).
"""

from __future__ import annotations

import functools
import inspect

import pytest
import trio
import trio.testing


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "autojump: run the async test with trio's MockClock(autojump_threshold=0)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    fn = pyfuncitem.obj
    if not inspect.iscoroutinefunction(fn):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    clock = None
    if pyfuncitem.get_closest_marker("autojump"):
        clock = trio.testing.MockClock(autojump_threshold=0)
    trio.run(functools.partial(fn, **kwargs), clock=clock)
    return True
