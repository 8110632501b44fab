"""Unit tests of the node supervisor with in-test services under trio's virtual clock.

Each test is a sync function that runs its body with ``trio.run`` and a
``MockClock(autojump_threshold=0)``: time only moves when every task is blocked, so backoff
delays, timeouts and stop deadlines are observed exactly and instantly.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from orrery.runtime._errors import InternalError, InvalidError, NotFound, Unavailable
from orrery.supervision import (
    BootFailed,
    RestartPolicy,
    RunOutcome,
    ServiceRun,
    ServiceSpec,
    ServiceState,
    ServiceSupervisor,
)

BOOM = RunOutcome(restartable=True, error="Internal: boom")
NORMAL = RunOutcome(restartable=False, error=None)
FATAL = RunOutcome(restartable=False, error="Invalid: bad config")


def run(fn: Callable[[], Awaitable[object]]) -> None:
    trio.run(fn, clock=trio.testing.MockClock(autojump_threshold=0))


@attrs.frozen
class Script:
    """What one run of a test service does."""

    start_for: float = 0.0  # start() takes this long
    start_error: str | None = None  # then raises InternalError(start_error)
    run_for: float | None = None  # then runs this long (None: until stopped)
    outcome: RunOutcome = BOOM  # and ends with this
    stop_for: float = 0.0  # a graceful stop takes this long (forced after the timeout)
    stop_hangs: bool = False  # stop() never returns: breaks the ServiceRun contract


UP = Script()  # starts at once, runs until stopped


class FakeRun:
    def __init__(self, fleet: Fleet, sid: str, attempt: int, script: Script) -> None:
        self.fleet, self.sid, self.attempt, self.script = fleet, sid, attempt, script
        self._started = False
        self._stopped = False
        self._ended = trio.Event()

    @property
    def pid(self) -> str | None:
        return (
            f"<{self.sid}.{self.attempt}>" if self._started and not self._ended.is_set() else None
        )

    async def start(self) -> None:
        self.fleet.note("start", self.sid)
        try:
            await trio.sleep(self.script.start_for)
        except trio.Cancelled:
            self.fleet.note("start-cancelled", self.sid)
            raise
        if self.script.start_error is not None:
            raise InternalError(self.script.start_error)
        self._started = True

    async def wait(self) -> RunOutcome:
        limit = math.inf if self.script.run_for is None else self.script.run_for
        with trio.move_on_after(limit):
            await self._ended.wait()
        if self._stopped:
            return RunOutcome(restartable=True, error="Canceled: service stopping")
        self._ended.set()
        self.fleet.note("end", self.sid)
        return self.script.outcome

    async def stop(self, timeout: float) -> None:
        self.fleet.note("stop", self.sid)
        if self.script.stop_hangs:
            await trio.sleep_forever()
        with trio.move_on_after(timeout) as deadline:
            await trio.sleep(self.script.stop_for)
        if deadline.cancelled_caught:
            self.fleet.note("forced", self.sid)
        self._stopped = True
        self._ended.set()
        self.fleet.note("stopped", self.sid)


class Fleet:
    """Builds specs whose runs follow scripts, and records what the runs saw."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str, str]] = []
        self.attempts: dict[str, int] = {}
        self.runs: dict[str, list[FakeRun]] = {}

    def note(self, event: str, sid: str) -> None:
        self.events.append((trio.current_time(), event, sid))

    def spec(
        self,
        sid: str,
        *scripts: Script,
        requires: Sequence[str] = (),
        auto_start: bool = True,
        start_timeout: float = 10.0,
        stop_timeout: float = 10.0,
        stable_threshold: float = 5.0,
        kind: str = "process.service",
        **policy: Any,
    ) -> ServiceSpec:
        plan = scripts or (UP,)

        def factory() -> ServiceRun:
            attempt = self.attempts.get(sid, 0)
            self.attempts[sid] = attempt + 1
            fake = FakeRun(self, sid, attempt + 1, plan[min(attempt, len(plan) - 1)])
            self.runs.setdefault(sid, []).append(fake)
            return fake

        return ServiceSpec(
            id=sid,
            kind=kind,
            auto_start=auto_start,
            requires=tuple(requires),
            start_timeout=start_timeout,
            stop_timeout=stop_timeout,
            stable_threshold=stable_threshold,
            restart=RestartPolicy(**policy),
            factory=factory,
        )

    def times(self, event: str, sid: str) -> list[float]:
        return [t for t, e, s in self.events if e == event and s == sid]

    def order(self, event: str) -> list[str]:
        return [s for _, e, s in self.events if e == event]


def state(sup: ServiceSupervisor, sid: str) -> ServiceState:
    return sup.service(sid).state


def messages(caplog: pytest.LogCaptureFixture, sid: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"service {sid}:")]


EXAMPLE_2: dict[str, Any] = {
    "initial_delay": 0.2,
    "backoff_factor": 2.0,
    "max_delay": 1.0,
    "jitter": 0.0,
}


class TestRestartSchedule:
    def test_exact_delays_without_jitter(self, caplog: pytest.LogCaptureFixture) -> None:
        """Restarts follow 0.2, 0.4, 0.8, 1.0 s and the 5th failure gives up (Example 2)."""
        caplog.set_level(logging.INFO, logger="orrery.supervision")
        fleet = Fleet()
        sup = ServiceSupervisor(
            [fleet.spec("a:flaky", Script(run_for=0), max_attempts=5, **EXAMPLE_2)]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.wait_state("a:flaky", "given_up")
                await sup.shutdown(5)

        run(main)
        assert fleet.times("start", "a:flaky") == pytest.approx([0, 0.2, 0.6, 1.4, 2.4])
        info = sup.service("a:flaky")
        assert (info.failures, info.restarts, info.last_error) == (5, 4, "Internal: boom")
        assert info.since == pytest.approx(2.4)
        log = messages(caplog, "a:flaky")
        assert log[:3] == [
            "service a:flaky: registered -> starting (attempt 1)",
            "service a:flaky: starting -> running (pid <a:flaky.1>)",
            "service a:flaky: running -> failed (attempt 1): Internal: boom;"
            " restart in 0.200s (attempt 2)",
        ]
        assert "service a:flaky: failed -> starting (attempt 2)" in log
        assert any("restart in 1.000s (attempt 5)" in m for m in log)
        [given_up] = [r for r in caplog.records if "given_up" in r.getMessage()]
        assert given_up.levelno == logging.ERROR
        assert given_up.getMessage() == (
            "service a:flaky: running -> given_up (attempt 5 of 5): Internal: boom; giving up"
        )

    def test_seeded_jitter(self) -> None:
        """Seeded: each delay is base * (1 + uniform(-j, j)) from the service's stream."""
        fleet = Fleet()
        spec = fleet.spec("a:x", Script(run_for=0), initial_delay=1, jitter=0.5, max_attempts=6)
        sup = ServiceSupervisor([spec], random=random.Random(42))

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.wait_state("a:x", "given_up")
                await sup.shutdown(5)

        run(main)
        # Each service draws from its own stream, seeded from the master in order of ID.
        stream = random.Random(random.Random(42).getrandbits(64))
        expected, t = [0.0], 0.0
        for n in range(1, 6):
            t += min(2.0 ** (n - 1), 90.0) * (1 + stream.uniform(-0.5, 0.5))
            expected.append(t)
        assert fleet.times("start", "a:x") == pytest.approx(expected)

    def test_jitter_streams_do_not_depend_on_other_services(self) -> None:
        """A service's delays are the same whether or not other services fail alongside it."""

        def starts(extra: int) -> list[float]:
            fleet = Fleet()
            specs = [
                fleet.spec(f"a:s{i}", Script(run_for=0), jitter=0.3, max_attempts=4)
                for i in range(extra + 1)
            ]
            sup = ServiceSupervisor(specs, random=random.Random(9))

            async def main() -> None:
                async with trio.open_nursery() as nursery:
                    await sup.boot(nursery)
                    await sup.wait_state("a:s0", "given_up")
                    await sup.shutdown(5)

            run(main)
            return fleet.times("start", "a:s0")

        alone = starts(0)
        assert len(alone) == 4
        assert starts(5) == alone

    def test_give_up_after_max_attempts(self) -> None:
        """max_attempts 3 means exactly three runs, then given_up."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [fleet.spec("a:x", Script(run_for=1), max_attempts=3, jitter=0, initial_delay=1)]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.wait_state("a:x", "given_up")
                await trio.sleep(100)
                await sup.shutdown(5)

        run(main)
        assert fleet.times("start", "a:x") == [0, 2, 5]
        assert sup.service("a:x").failures == 3

    def test_max_attempts_one_never_restarts(self) -> None:
        """max_attempts 1 gives up on the first failure."""
        fleet = Fleet()
        sup = ServiceSupervisor([fleet.spec("a:x", Script(run_for=1), max_attempts=1)])

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.wait_state("a:x", "given_up")
                await sup.shutdown(5)

        run(main)
        assert fleet.times("start", "a:x") == [0]

    def test_stable_run_resets_the_failure_count(self) -> None:
        """Runs lasting stable_threshold never exhaust max_attempts; shorter ones do."""
        fleet = Fleet()
        policy: dict[str, Any] = {"max_attempts": 2, "jitter": 0.0, "initial_delay": 1.0}
        sup = ServiceSupervisor(
            [
                fleet.spec("a:stable", Script(run_for=5), stable_threshold=5, **policy),
                fleet.spec("a:short", Script(run_for=4.99), stable_threshold=5, **policy),
            ]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await trio.sleep(60)
                assert state(sup, "a:short") == "given_up"
                assert sup.service("a:stable").failures == 1
                await sup.shutdown(5)

        run(main)
        stable = fleet.times("start", "a:stable")
        assert stable == pytest.approx([6.0 * i for i in range(len(stable))])
        assert len(stable) == 10
        assert len(fleet.times("start", "a:short")) == 2

    def test_failed_start_is_a_run_of_length_zero(self) -> None:
        """Failed start attempts never reset the counter, even with stable_threshold 0."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec(
                    "a:x",
                    Script(start_error="no socket"),
                    stable_threshold=0,
                    max_attempts=3,
                    jitter=0,
                    auto_start=False,
                )
            ]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.start_service("a:x")
                await sup.wait_state("a:x", "given_up")
                await sup.shutdown(5)

        run(main)
        assert fleet.times("start", "a:x") == [0, 1, 3]
        assert sup.service("a:x").last_error == "Internal: no socket"

    def test_start_timeout_abandons_the_attempt(self, caplog: pytest.LogCaptureFixture) -> None:
        """A start slower than start_timeout is cancelled, torn down, and counts as a failure."""
        caplog.set_level(logging.INFO, logger="orrery.supervision")
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec(
                    "a:slow",
                    Script(start_for=100),
                    UP,
                    start_timeout=2,
                    jitter=0,
                    auto_start=False,
                )
            ]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.start_service("a:slow")
                await sup.wait_state("a:slow", "failed")
                assert trio.current_time() == 2
                assert sup.service("a:slow").last_error == (
                    "Timeout: start did not complete within 2.000s"
                )
                await sup.wait_state("a:slow", "running")
                await sup.shutdown(5)

        run(main)
        assert fleet.times("start-cancelled", "a:slow") == [2]
        assert fleet.times("stop", "a:slow")[0] == 2  # teardown of the abandoned attempt
        assert fleet.times("start", "a:slow") == [0, 3]


class TestOrder:
    @staticmethod
    def graph(fleet: Fleet, **kw: float) -> list[ServiceSpec]:
        slow = Script(start_for=1, stop_for=1)
        return [
            fleet.spec("a:z", slow, requires=["a:s1", "a:s2"]),
            fleet.spec("a:s3", slow, requires=["a:host"]),
            fleet.spec("a:s1", slow, requires=["a:host"]),
            fleet.spec("a:s2", slow, requires=["a:host"]),
            fleet.spec("a:host", slow, kind="process.host", auto_start=False),
            fleet.spec("a:idle", slow, auto_start=False),
        ]

    @pytest.mark.parametrize("repeat", range(10))
    def test_boot_starts_deps_first_in_lexicographic_order(self, repeat: int) -> None:
        """Deps run before dependents; ready services start concurrently, initiated by ID."""
        fleet = Fleet()
        sup = ServiceSupervisor(self.graph(fleet))
        boot_done: list[float] = []

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                boot_done.append(trio.current_time())
                await sup.shutdown(60)

        run(main)
        assert fleet.order("start") == ["a:host", "a:s1", "a:s2", "a:s3", "a:z"]
        assert fleet.times("start", "a:host") == [0]
        for sid in ("a:s1", "a:s2", "a:s3"):  # started in parallel
            assert fleet.times("start", sid) == [1]
        assert fleet.times("start", "a:z") == [2]
        assert boot_done == [3]
        assert state(sup, "a:idle") == "registered"  # not in the start set

    @pytest.mark.parametrize("repeat", range(10))
    def test_shutdown_stops_dependents_first_in_reverse_order(self, repeat: int) -> None:
        """Dependents stop first; independent ones concurrently, initiated in reverse ID order."""
        fleet = Fleet()
        sup = ServiceSupervisor(self.graph(fleet))

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await trio.sleep(7)  # t = 10
                await sup.shutdown(60)

        run(main)
        assert fleet.order("stop") == ["a:z", "a:s3", "a:s2", "a:s1", "a:host"]
        # a:s3 has no dependent: it stops at once, alongside a:z.
        assert fleet.times("stop", "a:z") == fleet.times("stop", "a:s3") == [10]
        assert fleet.times("stop", "a:s1") == fleet.times("stop", "a:s2") == [11]
        assert fleet.times("stop", "a:host") == [12]
        assert {i.state for i in sup.services()} == {"stopped", "registered"}

    def test_dependency_restart_is_awaited(self) -> None:
        """A dependent of a failed service waits for its restart, then starts."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec("a:db", Script(start_error="down"), UP, jitter=0, initial_delay=3),
                fleet.spec("a:api", requires=["a:db"]),
            ]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                assert trio.current_time() == 3
                await sup.shutdown(5)

        run(main)
        assert fleet.times("start", "a:api") == [3]

    def test_start_service_pulls_in_dependencies(self) -> None:
        """start_service starts the service's dependencies first, even if not auto_start."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec("a:db", auto_start=False),
                fleet.spec("a:cache", auto_start=False),
                fleet.spec("a:api", requires=["a:db", "a:cache"], auto_start=False),
            ]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                assert {i.state for i in sup.services()} == {"registered"}
                await sup.start_service("a:api")
                await sup.wait_state("a:api", "running")
                await sup.shutdown(5)

        run(main)
        assert fleet.order("start") == ["a:cache", "a:db", "a:api"]


class TestEscalation:
    def test_dependency_gave_up_gives_up_dependents(self, caplog: pytest.LogCaptureFixture) -> None:
        """Not-yet-started dependents (transitively) go to given_up and are never started."""
        caplog.set_level(logging.INFO, logger="orrery.supervision")
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec("a:db", Script(start_error="down"), max_attempts=2, auto_start=False),
                fleet.spec("a:api", requires=["a:db"], auto_start=False),
                fleet.spec("a:web", requires=["a:api"], auto_start=False),
                fleet.spec("a:other", auto_start=False),
            ]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.start_service("a:web")
                await sup.wait_state("a:web", "given_up")
                await sup.shutdown(5)

        run(main)
        assert fleet.order("start") == ["a:db", "a:db"]
        assert sup.service("a:api").last_error == "dependency a:db is not available"
        assert sup.service("a:web").last_error == "dependency a:api is not available"
        assert state(sup, "a:other") == "registered"
        [line] = [r for r in caplog.records if r.getMessage().startswith("service a:web:")]
        assert line.getMessage() == (
            "service a:web: registered -> given_up: dependency a:api is not available"
        )
        assert line.levelno == logging.ERROR

    def test_exited_dependency_gives_up_dependents(self) -> None:
        """A dependency that exits for good (one-shot) also makes waiting dependents give up."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec("a:once", Script(run_for=0, outcome=NORMAL), auto_start=False),
                fleet.spec(
                    "a:late",
                    Script(start_error="x"),
                    UP,
                    requires=["a:once"],
                    auto_start=False,
                    jitter=0,
                ),
            ]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.start_service("a:late")
                await sup.wait_state("a:late", "given_up")
                await sup.shutdown(5)

        run(main)
        assert state(sup, "a:once") == "exited"
        assert sup.service("a:late").last_error == "dependency a:once is not available"

    def test_running_dependents_keep_running(self) -> None:
        """No cascade: a dependent that is already running stays up when its dependency gives up."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec("a:db", Script(run_for=1), max_attempts=1),
                fleet.spec("a:api", requires=["a:db"]),
            ]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.wait_state("a:db", "given_up")
                await trio.sleep(10)
                assert state(sup, "a:api") == "running"
                await sup.shutdown(5)

        run(main)

    def test_normal_exit_is_not_restarted(self) -> None:
        """A normal return moves the service to exited, and it stays down."""
        fleet = Fleet()
        sup = ServiceSupervisor([fleet.spec("a:job", Script(run_for=1, outcome=NORMAL))])

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.wait_state("a:job", "exited")
                await trio.sleep(100)
                await sup.shutdown(5)

        run(main)
        assert fleet.times("start", "a:job") == [0]
        assert sup.service("a:job").last_error is None

    def test_exit_while_stopping_is_stopped(self) -> None:
        """The run's error during a graceful stop does not make the service failed."""
        fleet = Fleet()
        sup = ServiceSupervisor([fleet.spec("a:x", Script(stop_for=1))])

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.stop_service("a:x")
                assert state(sup, "a:x") == "stopped"
                await sup.shutdown(5)

        run(main)
        assert fleet.times("start", "a:x") == [0]
        assert sup.service("a:x").last_error is None


class TestBoot:
    def test_boot_fails_when_a_start_set_service_gives_up(self) -> None:
        """BootFailed names the service and its error; everything started was stopped."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec("a:good"),
                fleet.spec("a:bad", Script(start_error="nope"), max_attempts=2, jitter=0),
                fleet.spec("a:after", requires=["a:bad"]),
            ]
        )
        caught: list[BootFailed] = []

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                try:
                    await sup.boot(nursery)
                except BootFailed as exc:
                    caught.append(exc)

        run(main)
        [exc] = caught
        assert (exc.service_id, exc.last_error) == ("a:bad", "Internal: nope")
        assert exc.kind == "Unavailable"
        assert fleet.times("stop", "a:good") == [1]
        assert state(sup, "a:good") == "stopped"
        assert state(sup, "a:after") == "given_up"

    def test_boot_fails_on_a_non_retryable_exit(self) -> None:
        """An exit with a non-retryable error before boot completes fails the boot."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec("a:bad", Script(run_for=1, outcome=FATAL)),
                fleet.spec("a:slow", Script(start_for=5)),
            ]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                with pytest.raises(BootFailed) as info:
                    await sup.boot(nursery)
                assert info.value.service_id == "a:bad"
                assert info.value.last_error == "Invalid: bad config"

        run(main)
        assert state(sup, "a:slow") == "stopped"
        assert fleet.times("start-cancelled", "a:slow") == [1]

    def test_one_shot_service_completes_boot(self) -> None:
        """A normal exit counts as having reached running for the boot condition."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec("a:job", Script(start_for=1, run_for=0, outcome=NORMAL)),
                fleet.spec("a:slow", Script(start_for=5)),
            ]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                assert trio.current_time() == 5
                assert state(sup, "a:job") == "exited"
                await sup.shutdown(5)

        run(main)

    def test_boot_waits_through_restarts(self) -> None:
        """Failures before the first running only delay the boot while attempts remain."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [fleet.spec("a:x", Script(start_error="e"), Script(start_error="e"), UP, jitter=0)]
        )
        done: list[float] = []

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                done.append(trio.current_time())
                await sup.shutdown(5)

        run(main)
        assert done == [3]

    def test_empty_start_set_boots_at_once(self) -> None:
        """With no auto_start service boot returns immediately and nothing starts."""
        fleet = Fleet()
        sup = ServiceSupervisor([fleet.spec("a:x", auto_start=False)])

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                with pytest.raises(RuntimeError):
                    await sup.boot(nursery)
                await sup.shutdown(5)

        run(main)
        assert fleet.events == []


class TestStop:
    def test_stop_is_ended_by_the_runs_own_deadline(self) -> None:
        """A service ignoring the graceful stop is ended by stop() at stop_timeout."""
        fleet = Fleet()
        sup = ServiceSupervisor([fleet.spec("a:stubborn", Script(stop_for=1000), stop_timeout=2)])

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await trio.sleep(1)
                await sup.stop_service("a:stubborn")
                assert trio.current_time() == 3
                await sup.shutdown(5)

        run(main)
        assert fleet.times("forced", "a:stubborn") == [3]
        assert state(sup, "a:stubborn") == "stopped"

    def test_shutdown_is_bounded_when_stop_hangs(self, caplog: pytest.LogCaptureFixture) -> None:
        """A stop() that never returns cannot hold shutdown past its timeout."""
        caplog.set_level(logging.INFO, logger="orrery.supervision")
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec("a:hang", Script(stop_hangs=True), stop_timeout=10),
                fleet.spec("a:fine", Script(stop_for=0.5)),
            ]
        )
        finished: list[float] = []

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.shutdown(3)
                finished.append(trio.current_time())

        run(main)
        assert finished == [3]
        assert state(sup, "a:hang") == "stopped"
        assert state(sup, "a:fine") == "stopped"
        assert any(
            r.levelno == logging.WARNING and "abandoned at the shutdown deadline" in r.getMessage()
            for r in caplog.records
        )

    def test_stop_service_guards_a_broken_stop(self) -> None:
        """stop_service gives up on a stop() that breaks its contract after timeout + grace."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [fleet.spec("a:hang", Script(stop_hangs=True), stop_timeout=2)], stop_grace=1
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.stop_service("a:hang")
                assert trio.current_time() == 3
                await sup.shutdown(5)

        run(main)
        assert state(sup, "a:hang") == "stopped"

    def test_shutdown_interrupts_a_pending_restart(self, caplog: pytest.LogCaptureFixture) -> None:
        """A service waiting for its restart goes failed -> stopping -> stopped at once."""
        caplog.set_level(logging.INFO, logger="orrery.supervision")
        fleet = Fleet()
        sup = ServiceSupervisor([fleet.spec("a:x", Script(run_for=1), initial_delay=50, jitter=0)])

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.wait_state("a:x", "failed")
                await trio.sleep(1)
                await sup.shutdown(100)
                assert trio.current_time() == 2
            await trio.sleep(100)

        run(main)
        assert fleet.times("start", "a:x") == [0]
        assert messages(caplog, "a:x")[-2:] == [
            "service a:x: failed -> stopping",
            "service a:x: stopping -> stopped",
        ]

    def test_stop_service_interrupts_a_pending_restart(self) -> None:
        """stop_service during the backoff wait cancels the restart; start_service begins anew."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [fleet.spec("a:x", Script(run_for=1), initial_delay=50, jitter=0, max_attempts=3)]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.wait_state("a:x", "failed")
                await sup.stop_service("a:x")
                assert (state(sup, "a:x"), trio.current_time()) == ("stopped", 1)
                assert sup.service("a:x").failures == 1
                await sup.start_service("a:x")
                await sup.wait_state("a:x", "running")
                assert sup.service("a:x").failures == 0
                await sup.shutdown(5)

        run(main)
        assert fleet.times("start", "a:x") == [0, 1]

    def test_start_during_a_stop_waits_for_the_stop(self) -> None:
        """start_service on a stopping service starts it again once the stop is over."""
        fleet = Fleet()
        sup = ServiceSupervisor([fleet.spec("a:x", Script(stop_for=2))])

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                nursery.start_soon(sup.stop_service, "a:x")
                await sup.wait_state("a:x", "stopping")
                await sup.start_service("a:x")
                assert trio.current_time() == 2
                assert await sup.wait_state("a:x", "running") == "running"
                await sup.shutdown(5)

        run(main)
        assert fleet.times("start", "a:x") == [0, 2]

    def test_stop_while_starting_tears_the_attempt_down(self) -> None:
        """A stop during start() cancels it and calls stop() on the half-started run."""
        fleet = Fleet()
        sup = ServiceSupervisor([fleet.spec("a:x", Script(start_for=10), auto_start=False)])

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.start_service("a:x")
                await trio.sleep(1)
                assert state(sup, "a:x") == "starting"
                await sup.stop_service("a:x")
                await sup.shutdown(5)

        run(main)
        assert fleet.times("start-cancelled", "a:x") == [1]
        assert fleet.times("stop", "a:x") == [1]
        assert state(sup, "a:x") == "stopped"

    def test_shutdown_drops_services_waiting_for_dependencies(self) -> None:
        """Services that never started keep their state when shutdown cancels their wait."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec("a:db", Script(start_error="down"), initial_delay=50, jitter=0),
                fleet.spec("a:api", requires=["a:db"]),
            ]
        )

        caught: list[BootFailed] = []

        async def boot(nursery: trio.Nursery) -> None:
            try:
                await sup.boot(nursery)
            except BootFailed as exc:
                caught.append(exc)

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(boot, nursery)
                await sup.wait_state("a:db", "failed")
                await sup.shutdown(5)

        run(main)
        [exc] = caught
        assert exc.service_id is None
        assert state(sup, "a:api") == "registered"
        assert state(sup, "a:db") == "stopped"

    def test_start_after_shutdown_is_refused(self) -> None:
        """start_service on a shut-down supervisor raises Unavailable; unknown IDs NotFound."""
        fleet = Fleet()
        sup = ServiceSupervisor([fleet.spec("a:x")])

        async def main() -> None:
            with pytest.raises(Unavailable):
                await sup.start_service("a:x")
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                await sup.shutdown(5)
                await sup.shutdown(5)  # idempotent
            with pytest.raises(Unavailable):
                await sup.start_service("a:x")
            with pytest.raises(NotFound):
                await sup.stop_service("a:nope")
            with pytest.raises(NotFound):
                sup.service("a:nope")

        run(main)


class TestObservability:
    def test_snapshot_fields(self) -> None:
        """services() reports kind, PID while running, failure and restart counts, and since."""
        fleet = Fleet()
        sup = ServiceSupervisor(
            [
                fleet.spec("a:svc", Script(run_for=2), UP, jitter=0, initial_delay=1),
                fleet.spec("a:host", kind="process.host", auto_start=False),
            ]
        )

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                [host, svc] = sup.services()
                assert (host.id, host.kind, host.state, host.pid) == (
                    "a:host",
                    "process.host",
                    "registered",
                    None,
                )
                assert (svc.state, svc.pid, svc.since) == ("running", "<a:svc.1>", 0)
                await sup.wait_state("a:svc", "failed")
                info = sup.service("a:svc")
                assert (info.pid, info.failures, info.last_error) == (None, 1, "Internal: boom")
                await sup.wait_state("a:svc", "running")
                info = sup.service("a:svc")
                assert (info.pid, info.restarts, info.since) == ("<a:svc.2>", 1, 3)
                await sup.shutdown(5)

        run(main)


class TestCrashStorm:
    def test_two_thousand_services_failing_at_once(self) -> None:
        """Every restart of 2,000 simultaneously failing services follows its policy."""
        count, run_for = 2000, 1.0
        policy: dict[str, Any] = {
            "initial_delay": 0.5,
            "max_delay": 4.0,
            "jitter": 0.1,
            "max_attempts": 5,
        }
        fleet = Fleet()
        quiet = logging.getLogger("tests.supervision.storm")
        quiet.setLevel(logging.CRITICAL)
        sup = ServiceSupervisor(
            [fleet.spec(f"a:s{i:04d}", Script(run_for=run_for), **policy) for i in range(count)],
            random=random.Random(1),
            logger=quiet,
        )
        snapshots: list[tuple[float, int]] = []

        async def probe() -> None:
            while True:
                infos = sup.services()
                snapshots.append((trio.current_time(), sum(i.state == "failed" for i in infos)))
                await trio.sleep(0.05)

        async def main() -> None:
            async with trio.open_nursery() as nursery:
                await sup.boot(nursery)
                nursery.start_soon(probe)
                for i in range(count):
                    await sup.wait_state(f"a:s{i:04d}", "given_up")
                nursery.cancel_scope.cancel()

        run(main)
        bounds = RestartPolicy(**policy)
        by_service: dict[str, list[float]] = {}
        for t, event, sid in fleet.events:
            if event == "start":
                by_service.setdefault(sid, []).append(t)
        assert len(by_service) == count
        for starts in by_service.values():
            assert len(starts) == 5
            for n, (a, b) in enumerate(itertools.pairwise(starts), start=1):
                base = bounds.base_delay(n)
                assert base * 0.9 - 1e-9 <= b - a - run_for <= base * 1.1 + 1e-9
        assert all(i.failures == 5 and i.restarts == 4 for i in sup.services())
        # The probe kept being answered all along, and saw restarts pending.
        assert len(snapshots) >= 200
        assert max(failed for _, failed in snapshots) > count // 2


class TestValidation:
    def test_duplicate_ids(self) -> None:
        """Two services with one ID are rejected."""
        fleet = Fleet()
        with pytest.raises(InvalidError, match="duplicate service a:x"):
            ServiceSupervisor([fleet.spec("a:x"), fleet.spec("a:x")])

    def test_unknown_dependency(self) -> None:
        """A dependency that is not a service is rejected."""
        fleet = Fleet()
        with pytest.raises(InvalidError, match="requires unknown service a:nope"):
            ServiceSupervisor([fleet.spec("a:x", requires=["a:nope"])])

    def test_cycle(self) -> None:
        """A dependency cycle is rejected and named."""
        fleet = Fleet()
        with pytest.raises(InvalidError, match=r"a:a -> a:b -> a:c -> a:a"):
            ServiceSupervisor(
                [
                    fleet.spec("a:a", requires=["a:b"]),
                    fleet.spec("a:b", requires=["a:c"]),
                    fleet.spec("a:c", requires=["a:a"]),
                ]
            )

    def test_spec_checks_timeouts(self) -> None:
        """start_timeout and stop_timeout must be positive."""
        fleet = Fleet()
        with pytest.raises(ValueError, match="start_timeout"):
            fleet.spec("a:x", start_timeout=0)
