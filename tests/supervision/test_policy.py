"""Unit tests of the restart policy and the pure restart algorithm.

See docs/reference/services.md, "Restart algorithm".
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from orrery.supervision import RestartPolicy, decide_restart


def schedule(policy: RestartPolicy, count: int) -> list[float]:
    rng = random.Random(0)
    return [policy.delay(n, rng) for n in range(1, count + 1)]


class TestRestartPolicy:
    def test_defaults_are_the_registry_defaults(self) -> None:
        """The defaults match docs/reference/yaml-kinds.md, "lifecycle"."""
        policy = RestartPolicy()
        assert (policy.initial_delay, policy.max_delay, policy.backoff_factor) == (1.0, 90.0, 2.0)
        assert (policy.jitter, policy.max_attempts) == (0.1, 0)

    def test_default_schedule_without_jitter(self) -> None:
        """Delays double from 1 s and stop growing at 90 s, as listed in §5.2."""
        policy = RestartPolicy(jitter=0)
        assert schedule(policy, 10) == [1, 2, 4, 8, 16, 32, 64, 90, 90, 90]

    def test_example_2_schedule(self) -> None:
        """The schedule of the supervised-worker scenario: 200 ms doubling up to 1 s."""
        policy = RestartPolicy(initial_delay=0.2, max_delay=1.0, jitter=0, max_attempts=5)
        assert schedule(policy, 5) == pytest.approx([0.2, 0.4, 0.8, 1.0, 1.0])

    def test_explicit_zero_jitter_draws_nothing(self) -> None:
        """jitter 0 returns the base delay and leaves the random stream untouched."""
        rng = random.Random(7)
        state = rng.getstate()
        assert RestartPolicy(jitter=0).delay(3, rng) == 4.0
        assert rng.getstate() == state

    def test_jitter_uses_one_uniform_draw(self) -> None:
        """delay = base * (1 + uniform(-jitter, +jitter)) with one draw from the given stream."""
        policy = RestartPolicy(initial_delay=1, backoff_factor=3, jitter=0.25)
        expected_rng = random.Random(11)
        got_rng = random.Random(11)
        for failures in range(1, 8):
            base = min(3.0 ** (failures - 1), 90.0)
            expected = base * (1 + expected_rng.uniform(-0.25, 0.25))
            assert policy.delay(failures, got_rng) == expected

    def test_jitter_stays_within_bounds(self) -> None:
        """Every jittered delay lies within base * [1 - jitter, 1 + jitter]."""
        policy = RestartPolicy(jitter=0.1)
        rng = random.Random(3)
        for _ in range(1000):
            assert 0.9 * 4 <= policy.delay(3, rng) <= 1.1 * 4

    def test_full_jitter_never_negative(self) -> None:
        """With jitter 1 the delay may reach 0 but never goes below it."""
        policy = RestartPolicy(jitter=1.0)
        rng = random.Random(5)
        assert all(policy.delay(1, rng) >= 0 for _ in range(1000))

    def test_huge_failure_counts_do_not_overflow(self) -> None:
        """A series of a million failures waits max_delay, without an OverflowError."""
        assert RestartPolicy().base_delay(10**6) == 90.0
        assert RestartPolicy(initial_delay=0, max_delay=0).base_delay(10**6) == 0.0

    def test_base_delay_needs_a_failure(self) -> None:
        """There is no delay before the first failure."""
        with pytest.raises(ValueError, match="failures"):
            RestartPolicy().base_delay(0)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"initial_delay": -1}, "initial_delay"),
            ({"initial_delay": 5, "max_delay": 1}, "max_delay"),
            ({"max_delay": math.inf}, "max_delay"),
            ({"backoff_factor": 0.5}, "backoff_factor"),
            ({"jitter": 1.5}, "jitter"),
            ({"jitter": -0.1}, "jitter"),
            ({"max_attempts": -1}, "max_attempts"),
            ({"max_attempts": 1.5}, "max_attempts"),
            ({"max_attempts": True}, "max_attempts"),
        ],
    )
    def test_rejects_invalid_values(self, kwargs: dict[str, Any], match: str) -> None:
        """Values outside the ranges of docs/reference/yaml-kinds.md, "lifecycle" are rejected."""
        with pytest.raises(ValueError, match=match):
            RestartPolicy(**kwargs)


def run_series(policy: RestartPolicy, run_lengths: list[float | None], stable: float) -> list:
    failures = 0
    decisions = []
    for length in run_lengths:
        decision = decide_restart(
            policy,
            failures=failures,
            run_length=length,
            stable_threshold=stable,
            rng=random.Random(0),
        )
        decisions.append(decision)
        failures = decision.failures
        if decision.give_up:
            break
    return decisions


class TestDecideRestart:
    def test_max_attempts_one_never_restarts(self) -> None:
        """max_attempts 1 gives up at the first failure."""
        [decision] = run_series(RestartPolicy(max_attempts=1), [0.1], stable=5)
        assert decision.give_up
        assert decision.delay is None
        assert decision.failures == 1

    def test_max_attempts_counts_runs_including_the_first(self) -> None:
        """max_attempts 3 allows the initial run plus two restarts."""
        decisions = run_series(RestartPolicy(max_attempts=3, jitter=0), [0.1] * 10, stable=5)
        assert [d.give_up for d in decisions] == [False, False, True]
        assert [d.delay for d in decisions] == [1.0, 2.0, None]
        assert [d.next_attempt for d in decisions[:2]] == [2, 3]

    def test_zero_max_attempts_is_unlimited(self) -> None:
        """max_attempts 0 never gives up."""
        decisions = run_series(RestartPolicy(max_attempts=0), [0.1] * 500, stable=5)
        assert len(decisions) == 500
        assert not any(d.give_up for d in decisions)
        assert decisions[-1].failures == 500

    def test_stable_run_starts_a_new_series(self) -> None:
        """A run of at least stable_threshold resets the counter before it is incremented."""
        policy = RestartPolicy(max_attempts=3, jitter=0)
        decisions = run_series(policy, [1, 1, 5.0, 1, 1], stable=5)
        assert [d.failures for d in decisions] == [1, 2, 1, 2, 3]
        assert [d.delay for d in decisions] == [1.0, 2.0, 1.0, 2.0, None]

    def test_run_just_below_threshold_does_not_reset(self) -> None:
        """The comparison is >=: 4.999 s does not reset a 5 s threshold."""
        decisions = run_series(RestartPolicy(max_attempts=2), [4.999, 4.999], stable=5)
        assert decisions[-1].give_up

    def test_failed_start_never_resets(self) -> None:
        """A failed start attempt is a run of length 0 and never resets, even with threshold 0."""
        decisions = run_series(RestartPolicy(max_attempts=3), [None, None, None], stable=0)
        assert [d.failures for d in decisions] == [1, 2, 3]
        assert decisions[-1].give_up

    def test_real_zero_length_run_resets_with_zero_threshold(self) -> None:
        """A run that did reach running counts, however short, when the threshold is 0."""
        decisions = run_series(RestartPolicy(max_attempts=2), [0.0] * 5, stable=0)
        assert [d.failures for d in decisions] == [1] * 5


policies = st.builds(
    lambda initial, extra, factor, jitter: RestartPolicy(
        initial_delay=initial, max_delay=initial + extra, backoff_factor=factor, jitter=jitter
    ),
    st.floats(0, 100, allow_nan=False),
    st.floats(0, 1000, allow_nan=False),
    st.floats(1, 10, allow_nan=False),
    st.floats(0, 1, allow_nan=False),
)


class TestScheduleProperties:
    @given(policies, st.integers(1, 3000))
    def test_base_delay_is_the_documented_formula(self, policy: RestartPolicy, n: int) -> None:
        """base = min(initial * factor ** (n - 1), max_delay) whenever that is computable."""
        try:
            expected = min(
                policy.initial_delay * policy.backoff_factor ** (n - 1), policy.max_delay
            )
        except OverflowError:
            expected = policy.max_delay if policy.initial_delay > 0 else 0.0
        assert policy.base_delay(n) == expected

    @given(policies, st.integers(1, 200))
    def test_base_delay_never_shrinks(self, policy: RestartPolicy, n: int) -> None:
        """Consecutive failures never shorten the base delay, and it never exceeds max_delay."""
        assert policy.base_delay(n) <= policy.base_delay(n + 1) <= policy.max_delay

    @given(policies, st.integers(1, 200), st.integers(0, 2**32))
    def test_delay_is_base_times_jitter(self, policy: RestartPolicy, n: int, seed: int) -> None:
        """delay = max(0, base * (1 + uniform(-jitter, jitter))) from the given stream."""
        base = policy.base_delay(n)
        delay = policy.delay(n, random.Random(seed))
        if policy.jitter == 0:
            assert delay == base
        else:
            u = random.Random(seed).uniform(-policy.jitter, policy.jitter)
            assert delay == max(0.0, base * (1 + u))
        assert base * (1 - policy.jitter) - 1e-9 <= delay <= base * (1 + policy.jitter) + 1e-9

    @given(
        policies,
        st.integers(0, 6),
        st.lists(st.one_of(st.none(), st.floats(0, 20, allow_nan=False)), max_size=40),
        st.floats(0, 10, allow_nan=False),
    )
    def test_series_matches_a_direct_model(
        self,
        policy: RestartPolicy,
        max_attempts: int,
        runs: list[float | None],
        stable: float,
    ) -> None:
        """decide_restart agrees step by step with a literal transcription of §5.2."""
        policy = RestartPolicy(
            initial_delay=policy.initial_delay,
            max_delay=policy.max_delay,
            backoff_factor=policy.backoff_factor,
            jitter=0,
            max_attempts=max_attempts,
        )
        failures = 0
        for length in runs:
            decision = decide_restart(
                policy,
                failures=failures,
                run_length=length,
                stable_threshold=stable,
                rng=random.Random(0),
            )
            t_start, t_end = (0.0, 0.0) if length is None else (0.0, length)
            if length is not None and t_end - t_start >= stable:
                failures = 0
            failures += 1
            assert decision.failures == failures
            if max_attempts > 0 and failures >= max_attempts:
                assert decision.give_up
                assert decision.delay is None
                break
            assert not decision.give_up
            assert decision.delay == policy.base_delay(failures)
