"""Unit tests of supervision groups (``GroupRun``) with fake processes under virtual time.

The fake processes follow scripts (:class:`Life`): when they exit on their own and how, what they
do with a CANCEL, whether they can be spawned at all. Every test runs under
``MockClock(autojump_threshold=0)``, so restart times, intensity windows and shutdown deadlines
are observed exactly.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Mapping, Sequence

import attrs
import pytest
import trio
from orrery.runtime._errors import InternalError
from orrery.supervision import (
    GroupChild,
    GroupRun,
    GroupSpec,
    ProcessTarget,
    RestartPolicy,
    RestartType,
    RunOutcome,
    ServiceSpec,
    ServiceSupervisor,
)

BOOM = RunOutcome(restartable=True, error="Internal: boom")
NORMAL = RunOutcome(restartable=False, error=None)
FATAL = RunOutcome(restartable=False, error="Invalid: bad config")
STOPPED = RunOutcome(restartable=True, error="Canceled: supervisor stopping")
TERMINATED = RunOutcome(restartable=True, error="Canceled: terminated")

pytestmark = pytest.mark.autojump


@attrs.frozen
class Life:
    """What one incarnation of a fake process does."""

    run_for: float | None = None  # ends on its own after this long (None: runs until stopped)
    outcome: RunOutcome = BOOM  # ... with this outcome
    on_cancel: float | None = 0.0  # after a CANCEL it ends after this long (None: ignores it)
    cancel_outcome: RunOutcome = STOPPED  # ... with this outcome
    spawn_error: str | None = None  # spawning it fails with InternalError(spawn_error)


UP = Life()


class FakeProc:
    def __init__(self, starter: FakeStarter, name: str, n: int, life: Life, on_exit: Callable):
        self.starter, self.name, self.n, self.life = starter, name, n, life
        self.pid = f"<{name}.{n}>"
        self.on_exit = on_exit
        self.ended = False
        self.cancelled = trio.Event()
        self.scope = trio.CancelScope()

    def end(self, outcome: RunOutcome, event: str = "exit") -> None:
        if self.ended:
            return
        self.ended = True
        self.scope.cancel()
        self.starter.note(event, self.name, self.n)
        self.on_exit(outcome)

    async def live(self) -> None:
        with self.scope:
            life = self.life
            with trio.move_on_after(math.inf if life.run_for is None else life.run_for):
                await self.cancelled.wait()
            if not self.cancelled.is_set():
                self.end(life.outcome)
                return
            if life.on_cancel is None:
                await trio.sleep_forever()
            await trio.sleep(life.on_cancel)
            self.end(life.cancel_outcome)


class FakeStarter:
    """A ProcessStarter whose processes follow scripts, keyed by the target's entry."""

    def __init__(self, nursery: trio.Nursery, scripts: Mapping[str, Sequence[Life]]) -> None:
        self.nursery = nursery
        self.scripts = scripts
        self.events: list[tuple[float, str, str, int]] = []
        self.spawns: dict[str, int] = {}
        self.spawned = 0
        self.procs: dict[str, FakeProc] = {}

    def note(self, event: str, name: str, n: int) -> None:
        self.events.append((trio.current_time(), event, name, n))

    def spawn(self, target: ProcessTarget, on_exit: Callable[[RunOutcome], None]) -> str:
        name = target.entry
        n = self.spawns.get(name, 0) + 1
        self.spawns[name] = n
        plan = self.scripts.get(name, (UP,))
        life = plan[min(n - 1, len(plan) - 1)]
        if life.spawn_error is not None:
            self.note("spawn-failed", name, n)
            raise InternalError(life.spawn_error)
        proc = FakeProc(self, name, n, life, on_exit)
        self.spawned += 1
        self.procs[proc.pid] = proc
        self.note("spawn", name, n)
        self.nursery.start_soon(proc.live)
        return proc.pid

    def cancel(self, pid: str, reason: str, deadline: float) -> None:
        proc = self.procs[pid]
        if proc.ended:
            raise LookupError(pid)
        self.note("cancel", proc.name, proc.n)
        proc.cancelled.set()

    def terminate(self, pid: str) -> None:
        proc = self.procs[pid]
        if proc.ended:
            raise LookupError(pid)
        proc.end(TERMINATED, "terminate")

    # -- queries ---------------------------------------------------------------------

    def seen(self, event: str, *, after: float = -1.0) -> list[str]:
        return [name for t, e, name, _ in self.events if e == event and t > after]

    def times(self, event: str, name: str) -> list[float]:
        return [t for t, e, n, _ in self.events if e == event and n == name]


def child(
    name: str, restart: str = "permanent", shutdown: float = 5.0, host: str = "h"
) -> GroupChild:
    return GroupChild(
        id=name,
        process=ProcessTarget(entry=name, host=host),
        restart=RestartType(restart),
        shutdown=shutdown,
    )


def group(*children: GroupChild, gid: str = "app:g", **options: object) -> GroupSpec:
    return GroupSpec(id=gid, children=children, **options)  # type: ignore[arg-type]


class Driver:
    """Runs one GroupRun the way the node supervisor does: start, wait, stop."""

    def __init__(self, nursery: trio.Nursery, run: GroupRun) -> None:
        self.nursery = nursery
        self.run = run
        self.outcome: RunOutcome | None = None
        self.ended = trio.Event()  # wait() returned
        self.left = trio.Event()  # wait() returned or was cancelled
        self.scope = trio.CancelScope()

    async def start(self) -> Driver:
        await self.run.start()
        self.nursery.start_soon(self._wait)
        return self

    async def _wait(self) -> None:
        try:
            with self.scope:
                self.outcome = await self.run.wait()
                self.ended.set()
        finally:
            self.left.set()

    async def outcome_at(self) -> tuple[float, RunOutcome]:
        await self.ended.wait()
        assert self.outcome is not None
        return trio.current_time(), self.outcome

    async def stop(self, timeout: float = 30.0) -> None:
        """Cancel wait(), then call stop() from the same place, as the node supervisor does."""
        self.scope.cancel()
        await self.left.wait()
        await self.run.stop(timeout)


async def started(
    nursery: trio.Nursery, spec: GroupSpec, scripts: Mapping[str, Sequence[Life]] | None = None
) -> tuple[FakeStarter, Driver]:
    starter = FakeStarter(nursery, scripts or {})
    driver = await Driver(nursery, GroupRun(spec, starter)).start()
    return starter, driver


def states(run: GroupRun) -> dict[str, str]:
    return {c.id: str(c.state) for c in run.info().children}


ABC = ("a", "b", "c")


class TestStrategies:
    @pytest.mark.parametrize("failing", ABC)
    async def test_one_for_one_restarts_only_the_failed_child(self, failing: str) -> None:
        """one_for_one restarts the failed child at once and touches no sibling."""
        async with trio.open_nursery() as nursery:
            spec = group(*(child(n) for n in ABC), strategy="one_for_one")
            starter, driver = await started(nursery, spec, {failing: [Life(run_for=1), UP]})
            await trio.sleep(2)
            assert starter.seen("spawn") == ["a", "b", "c", failing]
            assert starter.times("spawn", failing) == [0, 1]
            assert starter.seen("cancel") == []
            info = {c.id: c for c in driver.run.info().children}
            assert {n: (info[n].state, info[n].restarts) for n in ABC} == {
                n: ("running", int(n == failing)) for n in ABC
            }
            assert info[failing].pid == f"<{failing}.2>"
            assert info[failing].last_error == "Internal: boom"
            await driver.stop()
            nursery.cancel_scope.cancel()

    @pytest.mark.parametrize("failing", ABC)
    async def test_one_for_all_stops_the_others_in_reverse_then_starts_all(
        self, failing: str
    ) -> None:
        """one_for_all stops every other child last-first, then starts all in list order."""
        async with trio.open_nursery() as nursery:
            spec = group(*(child(n, shutdown=2) for n in ABC), strategy="one_for_all", period=60)
            # Each sibling takes 1s to honour its CANCEL, so the stops are visibly sequential.
            scripts = {n: [Life(on_cancel=1)] for n in ABC}
            scripts[failing] = [Life(run_for=1), UP]
            starter, driver = await started(nursery, spec, scripts)
            await trio.sleep(10)
            others = [n for n in ABC if n != failing]
            assert starter.seen("cancel") == list(reversed(others))
            cancels = [t for t, e, *_ in starter.events if e == "cancel"]
            assert cancels == [1, 2]  # the second stop begins when the first ended
            assert starter.seen("spawn", after=0) == list(ABC)
            assert {t for t, e, *_ in starter.events if e == "spawn" and t > 0} == {3}
            assert starter.seen("terminate") == []
            assert set(states(driver.run).values()) == {"running"}
            assert all(c.restarts == 1 for c in driver.run.info().children)
            assert driver.run.info().recent_restarts == 1  # one restart, however many children
            await driver.stop()
            nursery.cancel_scope.cancel()

    @pytest.mark.parametrize("failing", ABC)
    async def test_rest_for_one_restarts_the_failed_child_and_those_after_it(
        self, failing: str
    ) -> None:
        """rest_for_one stops the children after the failed one, then restarts them in order."""
        async with trio.open_nursery() as nursery:
            spec = group(*(child(n) for n in ABC), strategy="rest_for_one")
            starter, driver = await started(nursery, spec, {failing: [Life(run_for=1), UP]})
            await trio.sleep(2)
            after = list(ABC[ABC.index(failing) + 1 :])
            assert starter.seen("cancel") == list(reversed(after))
            assert starter.seen("spawn", after=0) == [failing, *after]
            before = ABC[: ABC.index(failing)]
            assert all(starter.spawns[n] == 1 for n in before)
            await driver.stop()
            nursery.cancel_scope.cancel()

    async def test_one_for_all_with_a_hanging_sibling_waits_for_its_shutdown(self) -> None:
        """A sibling that ignores CANCEL is terminated at its shutdown deadline, then all start."""
        async with trio.open_nursery() as nursery:
            spec = group(child("a"), child("b", shutdown=3), strategy="one_for_all")
            scripts = {"a": [Life(run_for=1), UP], "b": [Life(on_cancel=None), UP]}
            starter, driver = await started(nursery, spec, scripts)
            await trio.sleep(10)
            assert starter.times("cancel", "b") == [1]
            assert starter.times("terminate", "b") == [4]
            assert [t for t, e, *_ in starter.events if e == "spawn"] == [0, 0, 4, 4]
            await driver.stop()
            nursery.cancel_scope.cancel()

    async def test_exit_of_a_sibling_while_it_is_being_stopped_is_absorbed(self) -> None:
        """A sibling that fails on its own during a one_for_all stop phase is not counted twice."""
        async with trio.open_nursery() as nursery:
            spec = group(
                child("a"),
                child("b"),
                child("c", shutdown=5),
                strategy="one_for_all",
                intensity=1,
                period=60,
            )
            scripts = {
                "a": [Life(run_for=1), UP],
                "b": [Life(run_for=2), UP],  # fails at t=2, while c is being stopped
                "c": [Life(on_cancel=3), UP],  # takes 3s to stop: from t=1 to t=4
            }
            starter, driver = await started(nursery, spec, scripts)
            await trio.sleep(10)
            assert starter.seen("cancel") == ["c"]  # b was already gone when its turn came
            assert [t for t, e, *_ in starter.events if e == "spawn" and t > 0] == [4, 4, 4]
            assert driver.run.info().recent_restarts == 1
            assert not driver.ended.is_set()
            await driver.stop()
            nursery.cancel_scope.cancel()


class TestRestartTypes:
    async def test_permanent_child_is_restarted_after_a_normal_exit(self) -> None:
        async with trio.open_nursery() as nursery:
            spec = group(child("a", "permanent"))
            starter, driver = await started(nursery, spec, {"a": [Life(1, NORMAL), UP]})
            await trio.sleep(2)
            assert starter.times("spawn", "a") == [0, 1]
            await driver.stop()
            nursery.cancel_scope.cancel()

    @pytest.mark.parametrize(
        ("outcome", "restarted"), [(BOOM, True), (NORMAL, False), (FATAL, False)]
    )
    async def test_transient_child_is_restarted_only_after_a_failure(
        self, outcome: RunOutcome, restarted: bool
    ) -> None:
        """transient: a normal exit and a non-retryable error are final.

        See docs/reference/services.md, "Failure classification".
        """
        async with trio.open_nursery() as nursery:
            spec = group(child("a", "transient"), child("keep"))
            starter, driver = await started(nursery, spec, {"a": [Life(1, outcome), UP]})
            await trio.sleep(2)
            assert starter.times("spawn", "a") == ([0, 1] if restarted else [0])
            assert states(driver.run)["a"] == ("running" if restarted else "exited")
            assert driver.run.info().recent_restarts == int(restarted)
            await driver.stop()
            nursery.cancel_scope.cancel()

    @pytest.mark.parametrize("outcome", [BOOM, NORMAL, FATAL])
    async def test_temporary_child_is_never_restarted(self, outcome: RunOutcome) -> None:
        async with trio.open_nursery() as nursery:
            spec = group(child("a", "temporary"), child("keep"))
            starter, driver = await started(nursery, spec, {"a": [Life(1, outcome), UP]})
            await trio.sleep(2)
            assert starter.times("spawn", "a") == [0]
            assert states(driver.run) == {"a": "exited", "keep": "running"}
            assert driver.run.info().recent_restarts == 0
            await driver.stop()
            nursery.cancel_scope.cancel()

    async def test_temporary_sibling_stopped_by_a_restart_stays_stopped(self) -> None:
        """A temporary child stopped by a sibling's one_for_all restart is not restarted (OTP)."""
        async with trio.open_nursery() as nursery:
            spec = group(child("a"), child("t", "temporary"), strategy="one_for_all")
            starter, driver = await started(nursery, spec, {"a": [Life(run_for=1), UP]})
            await trio.sleep(2)
            assert starter.times("cancel", "t") == [1]
            assert starter.seen("spawn") == ["a", "t", "a"]
            assert states(driver.run) == {"a": "running", "t": "stopped"}
            await driver.stop()
            nursery.cancel_scope.cancel()

    async def test_finished_transient_sibling_is_restarted_with_the_group(self) -> None:
        """A transient child that finished is started again by a one_for_all restart (OTP)."""
        async with trio.open_nursery() as nursery:
            spec = group(child("a"), child("once", "transient"), strategy="one_for_all")
            scripts = {"a": [Life(run_for=2), UP], "once": [Life(1, NORMAL), UP]}
            starter, driver = await started(nursery, spec, scripts)
            await trio.sleep(1.5)
            assert states(driver.run)["once"] == "exited"
            await trio.sleep(1)
            assert starter.times("spawn", "once") == [0, 2]
            assert starter.times("cancel", "once") == []  # it was not running
            assert states(driver.run) == {"a": "running", "once": "running"}
            await driver.stop()
            nursery.cancel_scope.cancel()

    async def test_group_ends_normally_when_every_child_finished(self) -> None:
        """With nothing left to run, the group itself exits normally (OTP's auto_shutdown)."""
        async with trio.open_nursery() as nursery:
            spec = group(child("a", "transient"), child("b", "temporary"), child("c", "transient"))
            scripts = {
                "a": [Life(1, NORMAL)],
                "b": [Life(2, BOOM)],
                "c": [Life(1, BOOM), Life(2, NORMAL)],
            }
            _, driver = await started(nursery, spec, scripts)
            assert await driver.outcome_at() == (3, NORMAL)
            assert states(driver.run) == {"a": "exited", "b": "exited", "c": "exited"}
            assert driver.run.info().state == "exited"

    async def test_group_ends_with_a_transient_childs_final_error(self) -> None:
        """A non-retryable error of a transient child becomes the group's final error."""
        async with trio.open_nursery() as nursery:
            spec = group(child("a", "transient"), child("b", "transient"))
            scripts = {"a": [Life(1, FATAL)], "b": [Life(2, NORMAL)]}
            _, driver = await started(nursery, spec, scripts)
            assert await driver.outcome_at() == (
                2,
                RunOutcome(restartable=False, error="Invalid: child a: bad config"),
            )


class TestIntensity:
    @pytest.mark.parametrize(
        ("failures", "fails_at"),
        [
            # intensity 2 in 10s: the third restart within 10s makes the group fail.
            ([1, 4, 11], 11),  # 1 is exactly 10s before 11: still in the window (OTP)
            ([1, 4, 11.5], None),  # 1 dropped at 11.5
            ([1, 4, 11.5, 14], 14),  # window at 14: 4, 11.5, 14
            ([1, 4, 11.5, 14.5], None),  # window at 14.5: 11.5, 14.5
            ([1, 2, 3], 3),
            ([5, 16, 27, 38, 49], None),  # one restart per window, forever
        ],
    )
    async def test_window_arithmetic(self, failures: list[float], fails_at: float | None) -> None:
        """More than `intensity` restarts within `period` (inclusive) fails the group."""
        async with trio.open_nursery() as nursery:
            lives = [
                Life(run_for=t - prev) for prev, t in zip([0, *failures], failures, strict=False)
            ]
            spec = group(child("a"), child("b"), intensity=2, period=10)
            starter, driver = await started(nursery, spec, {"a": [*lives, UP]})
            await trio.sleep(100)
            if fails_at is None:
                assert not driver.ended.is_set()
                assert starter.times("spawn", "a") == [0, *failures]
                await driver.stop()
            else:
                assert driver.ended.is_set()
                assert driver.outcome == RunOutcome(
                    restartable=True,
                    error="Unavailable: supervisor app:g reached its restart intensity (2 in 10s)",
                )
                # Restarted up to the failure that broke the limit, which is not restarted.
                assert starter.times("spawn", "a") == [0, *[t for t in failures if t < fails_at]]
                assert starter.times("cancel", "b") == [fails_at]
                assert states(driver.run) == {"a": "exited", "b": "stopped"}
            nursery.cancel_scope.cancel()

    async def test_intensity_zero_fails_on_the_first_restart(self) -> None:
        async with trio.open_nursery() as nursery:
            spec = group(child("a"), intensity=0, period=1)
            _, driver = await started(nursery, spec, {"a": [Life(run_for=3)]})
            at, outcome = await driver.outcome_at()
            assert at == 3
            assert outcome.restartable
            assert outcome.error is not None and "(0 in 1s)" in outcome.error

    async def test_failing_group_stops_every_child_in_reverse_order(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        async with trio.open_nursery() as nursery:
            spec = group(*(child(n) for n in "abcd"), intensity=1, period=5)
            scripts = {"b": [Life(run_for=1), Life(run_for=1), UP], "c": [Life(on_cancel=2)]}
            starter, driver = await started(nursery, spec, scripts)
            at, _ = await driver.outcome_at()
            assert at == 4  # failure at 2; d stopped at once, c takes 2s, then a
            assert [(t, e, n) for t, e, n, _ in starter.events if e == "cancel"] == [
                (2, "cancel", "d"),
                (2, "cancel", "c"),
                (4, "cancel", "a"),
            ]
        text = "\n".join(r.getMessage() for r in caplog.records)
        assert "supervisor app:g: child b exited: Internal: boom; reached its restart" in text

    async def test_failed_restart_counts_and_is_retried_through_the_queue(self) -> None:
        """A child that cannot be spawned again counts as a restart each time it is tried."""
        async with trio.open_nursery() as nursery:
            spec = group(child("a"), child("b"), intensity=3, period=10)
            scripts = {"a": [Life(run_for=1), Life(spawn_error="no room")]}
            starter, driver = await started(nursery, spec, scripts)
            at, outcome = await driver.outcome_at()
            assert at == 1
            assert outcome.restartable
            assert starter.seen("spawn-failed") == ["a", "a", "a"]  # restarts 1-3; 4th fails
            info = driver.run.info().children[0]
            assert (info.state, info.last_error) == ("exited", "Internal: no room")

    async def test_failed_start_in_a_rest_for_one_restart_resumes_the_rest(self) -> None:
        async with trio.open_nursery() as nursery:
            spec = group(child("a"), child("b"), child("c"), strategy="rest_for_one", intensity=5)
            scripts = {"a": [Life(run_for=1), UP], "b": [UP, Life(spawn_error="later"), UP]}
            starter, driver = await started(nursery, spec, scripts)
            await trio.sleep(2)
            assert starter.seen("spawn", after=0) == ["a", "b", "c"]
            assert starter.seen("spawn-failed") == ["b"]  # between a and b above
            assert set(states(driver.run).values()) == {"running"}
            assert driver.run.info().recent_restarts == 2
            await driver.stop()
            nursery.cancel_scope.cancel()

    async def test_failed_initial_start_stops_the_started_children(self) -> None:
        async with trio.open_nursery() as nursery:
            spec = group(child("a"), child("b"), child("c"))
            starter = FakeStarter(nursery, {"b": [Life(spawn_error="no host")]})
            run = GroupRun(spec, starter)
            with pytest.raises(InternalError) as info:
                await run.start()
            assert str(info.value) == "supervisor app:g: child b failed to start: no host"
            assert starter.seen("spawn") == ["a"]
            assert starter.seen("cancel") == ["a"]
            assert states(run) == {"a": "stopped", "b": "exited", "c": "registered"}
            nursery.cancel_scope.cancel()


class TestStop:
    async def test_children_stop_in_reverse_order_with_their_deadlines(self) -> None:
        async with trio.open_nursery() as nursery:
            spec = group(child("a", shutdown=1), child("b", shutdown=2), child("c", shutdown=3))
            scripts = {"a": [Life(on_cancel=None)], "b": [Life(on_cancel=0.5)]}
            starter, driver = await started(nursery, spec, scripts)
            await trio.sleep(1)
            await driver.stop(timeout=30)
            assert trio.current_time() == 1 + 0 + 0.5 + 1
            assert [(t, e, n) for t, e, n, _ in starter.events if t > 0] == [
                (1, "cancel", "c"),
                (1, "exit", "c"),
                (1, "cancel", "b"),
                (1.5, "exit", "b"),
                (1.5, "cancel", "a"),
                (2.5, "terminate", "a"),
            ]
            assert set(states(driver.run).values()) == {"stopped"}
            assert driver.run.info().state == "stopped"
            nursery.cancel_scope.cancel()

    async def test_child_hanging_on_cancel_is_terminated_after_its_shutdown(self) -> None:
        async with trio.open_nursery() as nursery:
            spec = group(child("a", shutdown=4))
            starter, driver = await started(nursery, spec, {"a": [Life(on_cancel=None)]})
            await driver.stop(timeout=30)
            assert starter.times("cancel", "a") == [0]
            assert starter.times("terminate", "a") == [4]
            nursery.cancel_scope.cancel()

    async def test_shutdown_zero_terminates_at_once(self) -> None:
        async with trio.open_nursery() as nursery:
            spec = group(child("a", shutdown=0))
            starter, driver = await started(nursery, spec)
            await driver.stop(timeout=30)
            assert starter.seen("cancel") == []
            assert starter.times("terminate", "a") == [0]
            nursery.cancel_scope.cancel()

    async def test_group_stop_timeout_bounds_every_child(self) -> None:
        """When the group's stop_timeout is over, the children left are terminated at once."""
        async with trio.open_nursery() as nursery:
            spec = group(*(child(n, shutdown=5) for n in "abc"))
            scripts = {n: [Life(on_cancel=None)] for n in "abc"}
            starter, driver = await started(nursery, spec, scripts)
            await driver.stop(timeout=7)
            assert trio.current_time() == 7
            assert [(t, e, n) for t, e, n, _ in starter.events if t > 0 or e != "spawn"] == [
                (0, "cancel", "c"),
                (5, "terminate", "c"),
                (5, "cancel", "b"),
                (7, "terminate", "b"),
                (7, "terminate", "a"),
            ]
            nursery.cancel_scope.cancel()

    async def test_child_failing_during_shutdown_is_stopped_not_restarted(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, "orrery.supervision")
        async with trio.open_nursery() as nursery:
            spec = group(child("a"), child("b"))
            scripts = {"b": [Life(on_cancel=0.5, cancel_outcome=BOOM)]}
            starter, driver = await started(nursery, spec, scripts)
            await driver.stop()
            assert starter.seen("spawn") == ["a", "b"]
            assert states(driver.run) == {"a": "stopped", "b": "stopped"}
            assert [c.last_error for c in driver.run.info().children] == [None, None]
            nursery.cancel_scope.cancel()
        assert "supervisor app:g: child b stopped: Internal: boom" in caplog.messages

    async def test_child_failing_on_its_own_while_the_group_stops(self) -> None:
        """An exit that happens during the stop (before the child's turn) is not restarted."""
        async with trio.open_nursery() as nursery:
            spec = group(child("a", shutdown=5), child("b", shutdown=5))
            scripts = {"a": [Life(run_for=2)], "b": [Life(on_cancel=3)]}
            starter, driver = await started(nursery, spec, scripts)
            await driver.stop()
            assert trio.current_time() == 3
            assert starter.seen("spawn") == ["a", "b"]
            assert starter.seen("cancel") == ["b"]  # a was gone when its turn came
            assert states(driver.run) == {"a": "stopped", "b": "stopped"}
            assert driver.run.info().children[0].last_error == "Internal: boom"
            nursery.cancel_scope.cancel()

    async def test_stop_during_a_one_for_all_restart_finishes_it(self) -> None:
        """A stop request in the middle of a restart's stop phase resumes with its deadlines."""
        async with trio.open_nursery() as nursery:
            spec = group(child("a"), child("b", shutdown=4), strategy="one_for_all")
            scripts = {"a": [Life(run_for=1), UP], "b": [Life(on_cancel=None)]}
            starter, driver = await started(nursery, spec, scripts)
            await trio.sleep(2)  # b got its CANCEL at 1, hangs until 5
            await driver.stop()
            assert trio.current_time() == 5
            assert starter.times("cancel", "b") == [1]  # not cancelled a second time
            assert starter.times("terminate", "b") == [5]
            assert starter.seen("spawn") == ["a", "b"]
            assert states(driver.run) == {"a": "stopped", "b": "stopped"}
            nursery.cancel_scope.cancel()


def nested_tree(sub_intensity: int = 1, top_intensity: int = 2) -> GroupSpec:
    sub = group(child("w1"), child("w2"), gid="app:sub", intensity=sub_intensity, period=60)
    return group(
        child("x"),
        GroupChild(id="sub", supervisor=sub, restart=RestartType.PERMANENT, shutdown=10),
        child("y"),
        gid="app:top",
        strategy="rest_for_one",
        intensity=top_intensity,
        period=60,
    )


class TestNested:
    async def test_nested_group_is_started_and_stopped_in_order(self) -> None:
        async with trio.open_nursery() as nursery:
            starter, driver = await started(nursery, nested_tree())
            assert starter.seen("spawn") == ["x", "w1", "w2", "y"]
            info = driver.run.info()
            assert [(c.id, c.kind, c.state) for c in info.children] == [
                ("x", "process", "running"),
                ("sub", "supervisor", "running"),
                ("y", "process", "running"),
            ]
            sub = info.children[1].supervisor
            assert sub is not None and sub.id == "app:sub" and sub.state == "running"
            assert [(c.id, c.pid) for c in sub.children] == [("w1", "<w1.1>"), ("w2", "<w2.1>")]
            await driver.stop()
            assert starter.seen("cancel") == ["y", "w2", "w1", "x"]
            nursery.cancel_scope.cancel()

    async def test_nested_failure_escalates_to_the_parent(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A nested group past its intensity fails; its parent restarts it like any child."""
        async with trio.open_nursery() as nursery:
            # w1 fails at 1, 2 (sub fails: 2 > 1), then at 3, 4 (the new sub fails), ...
            scripts = {"w1": [Life(run_for=1)]}
            starter, driver = await started(nursery, nested_tree(), scripts)
            at, outcome = await driver.outcome_at()
            # sub failed at 2, 4 and 6; the third failure exceeds the top intensity of 2.
            assert at == 6
            assert outcome == RunOutcome(
                restartable=True,
                error="Unavailable: supervisor app:top reached its restart intensity (2 in 1m0s)",
            )
            # rest_for_one: each sub failure restarted sub and y, never x.
            assert starter.times("spawn", "x") == [0]
            assert starter.times("spawn", "y") == [0, 2, 4]
            assert starter.times("spawn", "w1") == [0, 1, 2, 3, 4, 5]
        messages = caplog.messages
        assert (
            "supervisor app:top: child sub exited: Unavailable: supervisor app:sub reached its"
            " restart intensity (1 in 1m0s); rest_for_one restart (1 of at most 2 in 1m0s)"
        ) in messages

    async def test_sibling_failure_restarts_a_nested_group(self) -> None:
        """rest_for_one: a failure of x stops y, then the whole nested group, then restarts."""
        async with trio.open_nursery() as nursery:
            starter, driver = await started(nursery, nested_tree(), {"x": [Life(run_for=1), UP]})
            await trio.sleep(2)
            assert starter.seen("cancel") == ["y", "w2", "w1"]
            assert starter.seen("spawn", after=0) == ["x", "w1", "w2", "y"]
            sub = driver.run.info().children[1]
            assert (sub.state, sub.restarts) == ("running", 1)
            await driver.stop()
            nursery.cancel_scope.cancel()

    async def test_nested_group_that_finished_is_not_restarted_when_transient(self) -> None:
        async with trio.open_nursery() as nursery:
            sub = group(child("w", "transient"), gid="app:sub")
            spec = group(child("x"), GroupChild(id="sub", supervisor=sub), gid="app:top")
            starter, driver = await started(nursery, spec, {"w": [Life(1, NORMAL)]})
            await trio.sleep(2)
            assert states(driver.run) == {"x": "running", "sub": "exited"}
            assert starter.times("spawn", "w") == [0]
            await driver.stop()
            nursery.cancel_scope.cancel()


class TestWithServiceSupervisor:
    async def test_group_failure_is_restarted_with_the_group_backoff(self) -> None:
        """The node supervisor restarts a failed group after its backoff, with a fresh window."""
        async with trio.open_nursery() as nursery:
            starter = FakeStarter(nursery, {"a": [Life(run_for=1)]})
            spec = group(child("a"), child("b"), intensity=1, period=10)
            runs: list[GroupRun] = []

            def factory() -> GroupRun:
                runs.append(GroupRun(spec, starter))
                return runs[-1]

            policy = RestartPolicy(initial_delay=0.5, backoff_factor=2, jitter=0, max_attempts=3)
            sup = ServiceSupervisor(
                [
                    ServiceSpec(
                        id="app:g",
                        kind="process.supervisor",
                        auto_start=True,
                        requires=(),
                        start_timeout=10,
                        stop_timeout=10,
                        stable_threshold=60,
                        restart=policy,
                        factory=factory,
                    )
                ]
            )
            await sup.boot(nursery)
            await sup.wait_state("app:g", "given_up")
            # Group runs fail at 2, 4.5 (after 0.5s), 7.5 (after 1s); then it gives up.
            assert starter.times("spawn", "a") == [0, 1, 2.5, 3.5, 5.5, 6.5]
            assert starter.times("spawn", "b") == [0, 2.5, 5.5]
            assert len(runs) == 3
            assert sup.service("app:g").last_error == (
                "Unavailable: supervisor app:g reached its restart intensity (1 in 10s)"
            )
            await sup.shutdown(5)
            nursery.cancel_scope.cancel()


class TestCrashStorm:
    async def test_two_thousand_children_failing_at_once(self) -> None:
        """2,000 children fail together: each is restarted once, and the node stays responsive."""
        count = 2000
        quiet = logging.getLogger("tests.supervision.group_storm")
        quiet.setLevel(logging.CRITICAL)
        names = [f"c{i:04d}" for i in range(count)]
        async with trio.open_nursery() as nursery:
            starter = FakeStarter(nursery, {n: [Life(run_for=1), UP] for n in names})
            spec = group(*(child(n) for n in names), intensity=count, period=5)
            run = GroupRun(spec, starter, logger=quiet)
            driver = await Driver(nursery, run).start()
            pings: list[int] = []

            async def ping() -> None:
                # From the storm on, a task that needs the scheduler all the time, like a
                # process answering pings (it must end: virtual time only moves when idle).
                await trio.sleep(1)
                while starter.spawned < 2 * count:
                    pings.append(starter.spawned)
                    await trio.lowlevel.checkpoint()

            nursery.start_soon(ping)
            await trio.sleep(2)
            assert [starter.times("spawn", n) for n in names] == [[0, 1]] * count
            assert starter.seen("cancel") == []
            assert run.info().recent_restarts == count
            assert set(states(run).values()) == {"running"}
            # The ping task ran all through the storm, not only before and after it.
            during = {p for p in pings if count < p < 2 * count}
            assert len(during) > count // 4
            await driver.stop()
            nursery.cancel_scope.cancel()

    async def test_storm_one_past_the_intensity_fails_the_group_exactly(self) -> None:
        """With intensity N-1, the N-th simultaneous failure is the one that fails the group."""
        count = 2000
        quiet = logging.getLogger("tests.supervision.group_storm")
        quiet.setLevel(logging.CRITICAL)
        names = [f"c{i:04d}" for i in range(count)]
        order = names[:]
        random.Random(7).shuffle(order)
        async with trio.open_nursery() as nursery:
            # Children fail in a shuffled order, all within the same second.
            scripts = {n: [Life(run_for=1 + k / 10_000), UP] for k, n in enumerate(order)}
            starter = FakeStarter(nursery, scripts)
            spec = group(*(child(n) for n in names), intensity=count - 1, period=5)
            run = GroupRun(spec, starter, logger=quiet)
            driver = await Driver(nursery, run).start()
            _, outcome = await driver.outcome_at()
            assert outcome.restartable
            restarted = [n for n in names if starter.spawns[n] == 2]
            assert sorted(restarted) == sorted(order[:-1])
            last = order[-1]
            assert states(run)[last] == "exited"
            # Then everything was stopped, last child first.
            stops = [n for _, e, n, i in starter.events if e == "cancel"]
            assert stops == [n for n in reversed(names) if n != last]


class TestSpecs:
    def test_child_runs_exactly_one_thing(self) -> None:
        with pytest.raises(ValueError, match="exactly one of process and supervisor"):
            GroupChild(id="a")
        with pytest.raises(ValueError, match="exactly one of process and supervisor"):
            GroupChild(id="a", process=ProcessTarget("e", "h"), supervisor=group(child("x")))

    def test_child_fields_are_checked(self) -> None:
        with pytest.raises(ValueError, match="non-empty id"):
            child("")
        with pytest.raises(ValueError, match="shutdown"):
            child("a", shutdown=-1)
        with pytest.raises(ValueError, match="sometimes"):
            child("a", restart="sometimes")

    def test_group_fields_are_checked(self) -> None:
        with pytest.raises(ValueError, match="duplicate child id 'a'"):
            group(child("a"), child("a"))
        with pytest.raises(ValueError, match="intensity"):
            group(child("a"), intensity=-1)
        with pytest.raises(ValueError, match="period"):
            group(child("a"), period=0)
        with pytest.raises(ValueError, match="all_for_one"):
            group(child("a"), strategy="all_for_one")

    def test_snapshot_before_start(self) -> None:
        """A run that has not started shows every child registered, nested ones included."""
        sub = group(child("w"), gid="app:sub")
        spec = group(child("a"), GroupChild(id="s", supervisor=sub))
        info = GroupRun(spec, None).info()  # type: ignore[arg-type]
        assert (info.id, info.state, info.strategy, info.recent_restarts) == (
            "app:g",
            "registered",
            "one_for_one",
            0,
        )
        assert [(c.id, c.kind, c.state, c.pid, c.restarts) for c in info.children] == [
            ("a", "process", "registered", None, 0),
            ("s", "supervisor", "registered", None, 0),
        ]
        assert info.children[1].supervisor is not None
        assert [c.id for c in info.children[1].supervisor.children] == ["w"]
