"""The pytest plugin of orrery (registered as ``orrery`` through a ``pytest11`` entry point).

Installing orrery is enough to get it. It runs ``async def`` tests under trio
and provides the fixtures ``node``, ``probe``, ``node_factory``,
``autojump_clock`` and ``temporal_server``. See docs/testing.md.

Which ``async def`` tests it runs (ini option ``orrery_trio_mode``):

* ``auto`` (the default): every ``async def`` test that no other plugin
  claims. A test marked ``asyncio`` or ``anyio``, or marked ``trio`` while
  pytest-trio is installed, is left to that plugin; pytest-asyncio in auto
  mode takes every coroutine test before this plugin sees it.
* ``strict``: only tests marked ``@pytest.mark.orrery_trio`` (or ``autojump``),
  for projects where another async plugin owns the unmarked tests.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import cast

import pytest
import trio.testing

from ..runtime._node import Node
from ._nodes import Roots, open_test_node
from ._probe import Probe
from ._runner import InRun, Resolve, run_test
from ._temporal import TemporalTestServer

#: Markers of other async plugins; a test carrying one is theirs.
_FOREIGN_MARKERS = ("asyncio", "anyio")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declares the ini options of the plugin."""
    parser.addini(
        "orrery_trio_mode",
        "which async def tests orrery runs under trio: auto (unclaimed ones) or strict "
        "(only those marked orrery_trio or autojump)",
        default="auto",
    )
    parser.addini(
        "orrery_apps",
        "app directories (relative to the rootdir) of the `node` fixture when a test "
        "has no orrery_node marker",
        type="linelist",
        default=[],
    )
    parser.addini(
        "orrery_temporal_search_attributes",
        "NAME=TYPE search attributes registered on the session Temporal server",
        type="linelist",
        default=[],
    )


#: The folder of the orrery package. In a checkout of orrery itself this is the
#: repository root (the root *is* the package, see pyproject.toml).
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collects orrery's own package folder as a plain directory, not a test package.

    pytest would import a folder's ``__init__.py`` under the folder's name, which
    fails for a checkout named, say, ``orrery-main``. Only orrery's own source
    tree is affected; every other folder is left to pytest.
    """
    if path.resolve() == _PACKAGE_DIR:
        return pytest.Dir.from_parent(parent, path=path)
    return None


def pytest_configure(config: pytest.Config) -> None:
    """Declares the markers of the plugin."""
    config.addinivalue_line(
        "markers", "autojump: run the async test with trio's MockClock(autojump_threshold=0)"
    )
    config.addinivalue_line(
        "markers", "orrery_trio: run this async def test under trio (orrery_trio_mode=strict)"
    )
    config.addinivalue_line(
        "markers",
        "orrery_node(*roots, overrides=(), temporal=False): the apps of the `node` fixture; "
        "temporal=True points its temporal.client at the session server",
    )
    mode = config.getini("orrery_trio_mode")
    if mode not in ("auto", "strict"):
        raise pytest.UsageError(f"orrery_trio_mode must be 'auto' or 'strict', not {mode!r}")


def _claims(item: pytest.Function) -> bool:
    """Whether this plugin runs the (coroutine) test function of ``item``."""
    if any(item.get_closest_marker(name) for name in _FOREIGN_MARKERS):
        return False
    if item.get_closest_marker("trio") and item.config.pluginmanager.has_plugin("trio"):
        return False  # pytest-trio's
    if item.config.getini("orrery_trio_mode") == "strict":
        return bool(item.get_closest_marker("orrery_trio") or item.get_closest_marker("autojump"))
    return True


@pytest.hookimpl
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Runs a claimed ``async def`` test in a fresh ``trio.run``."""
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        promised = [name for name, value in kwargs.items() if isinstance(value, InRun)]
        if promised:
            raise pytest.UsageError(
                f"{pyfuncitem.nodeid}: the fixtures {', '.join(promised)} live inside a trio "
                "run; make the test `async def`"
            )
        return None
    if not _claims(pyfuncitem):
        return None
    # pytest keeps fixture values as `object`: this one is the autojump_clock fixture's
    clock = cast("trio.abc.Clock | None", pyfuncitem.funcargs.get("autojump_clock"))
    if clock is None and pyfuncitem.get_closest_marker("autojump"):
        clock = trio.testing.MockClock(autojump_threshold=0)
    run_test(pyfuncitem.obj, kwargs, clock)
    return True


@pytest.fixture
def autojump_clock() -> trio.testing.MockClock:
    """Virtual time for the test: trio's ``MockClock(autojump_threshold=0)``.

    Time moves only when every task is blocked, and then jumps straight to the
    next deadline, so code that sleeps for hours runs in milliseconds. Same
    effect as ``@pytest.mark.autojump``, with the clock in hand.
    """
    return trio.testing.MockClock(autojump_threshold=0)


def _resolve_roots(config: pytest.Config, roots: Sequence[str | os.PathLike[str]]) -> list[Path]:
    return [Path(config.rootpath, root) for root in roots]


@pytest.fixture(scope="session")
def temporal_server(pytestconfig: pytest.Config) -> Iterator[TemporalTestServer]:
    """One embedded Temporal server for the whole test session (in memory).

    Started on first use. Search attributes come from the ini option
    ``orrery_temporal_search_attributes`` (``CustomerId=keyword``, one per line).
    """
    attributes = {}
    for line in pytestconfig.getini("orrery_temporal_search_attributes"):
        name, sep, kind = line.partition("=")
        if not sep:
            raise pytest.UsageError(f"orrery_temporal_search_attributes: {line!r} is not NAME=TYPE")
        attributes[name.strip()] = kind.strip()
    with TemporalTestServer(attributes) as server:
        yield server


@pytest.fixture
def node_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[..., AbstractAsyncContextManager[Node]]:
    """Opens fresh nodes inside an ``async def`` test.

    ``node_factory(roots, overrides=(), temporal=False)`` is an async context
    manager (see :func:`orrery.testing.open_test_node`). Relative ``roots``
    are resolved against pytest's rootdir; each node gets its own state
    directory under ``tmp_path``. ``temporal=True`` uses the session server.
    """
    count = 0

    def factory(
        roots: Roots, overrides: Sequence[str] = (), *, temporal: bool = False
    ) -> AbstractAsyncContextManager[Node]:
        nonlocal count
        count += 1
        listed = [roots] if isinstance(roots, (str, os.PathLike)) else list(roots)
        server = request.getfixturevalue("temporal_server") if temporal else None
        return open_test_node(
            _resolve_roots(request.config, listed),
            overrides,
            state_dir=tmp_path / f"node-{count}",
            temporal=server,
        )

    return factory


@pytest.fixture
def node(
    request: pytest.FixtureRequest,
    node_factory: Callable[..., AbstractAsyncContextManager[Node]],
) -> InRun:
    """A fresh node for the test, stopped gracefully when the test ends.

    Its apps come from ``@pytest.mark.orrery_node("app", overrides=[...])`` or,
    without the marker, from the ini option ``orrery_apps``.
    """
    marker = request.node.get_closest_marker("orrery_node")
    if marker is not None:
        roots = list(marker.args)
        overrides = list(marker.kwargs.get("overrides", ()))
        temporal = bool(marker.kwargs.get("temporal", False))
    else:
        roots, overrides, temporal = request.config.getini("orrery_apps"), [], False
    if not roots:
        raise pytest.UsageError(
            f"{request.node.nodeid}: the node fixture needs apps: mark the test with "
            '@pytest.mark.orrery_node("path/to/app") or set orrery_apps in the ini file'
        )
    cm = node_factory(roots, overrides, temporal=temporal)
    return InRun(lambda _resolve: cm, "node")


@pytest.fixture
def probe(node: InRun) -> InRun:
    """A :class:`orrery.testing.Probe` on the test's ``node``."""

    @asynccontextmanager
    async def opener(resolve: Resolve) -> AsyncIterator[Probe]:
        async with Probe.open(await resolve(node)) as opened:
            yield opened

    return InRun(opener, "probe")
