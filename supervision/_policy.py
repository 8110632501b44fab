"""The restart policy of a service and the pure restart algorithm.

See docs/reference/services.md, "Restart algorithm".

Nothing in this module touches trio: the supervisor asks :func:`decide_restart` what to do after
each failure, and the answer depends only on its arguments. That keeps the schedule testable
without a clock, and makes it the one place where the algorithm is written down.
"""

from __future__ import annotations

import math
import random

import attrs

__all__ = ["RestartDecision", "RestartPolicy", "decide_restart"]


def _non_negative(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0 or math.isinf(value):  # also rejects NaN
        raise ValueError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


def _check_max_delay(inst: RestartPolicy, attribute: attrs.Attribute[float], value: float) -> None:
    _non_negative(inst, attribute, value)
    if value < inst.initial_delay:
        raise ValueError(f"max_delay ({value!r}) must be >= initial_delay ({inst.initial_delay!r})")


def _check_factor(_inst: object, _attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 1.0 or math.isinf(value):
        raise ValueError(f"backoff_factor must be a finite number >= 1.0, got {value!r}")


def _check_jitter(_inst: object, _attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"jitter must be in [0, 1], got {value!r}")


def _check_attempts(_inst: object, _attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_attempts must be an integer >= 0, got {value!r}")


@attrs.frozen
class RestartPolicy:
    """How a service is restarted after it fails (``lifecycle.restart``).

    See docs/reference/yaml-kinds.md, "lifecycle".

    Durations are in seconds. The defaults are the registry's defaults.

    Attributes:
        initial_delay: delay before the first restart of a failure series.
        max_delay: upper bound of the delay before jitter is applied; must be >= ``initial_delay``.
        backoff_factor: multiplier applied per consecutive failure; must be >= 1.
        jitter: relative random spread in ``[0, 1]``; an explicit ``0`` disables jitter and no
            random number is drawn at all.
        max_attempts: maximum number of runs in one failure series, counting the first run;
            ``0`` means unlimited and ``1`` means never restart.

    .. versionadded:: 0.1.0
    """

    initial_delay: float = attrs.field(default=1.0, converter=float, validator=_non_negative)
    max_delay: float = attrs.field(default=90.0, converter=float, validator=_check_max_delay)
    backoff_factor: float = attrs.field(default=2.0, converter=float, validator=_check_factor)
    jitter: float = attrs.field(default=0.1, converter=float, validator=_check_jitter)
    max_attempts: int = attrs.field(default=0, validator=_check_attempts)

    def base_delay(self, failures: int) -> float:
        """The delay before jitter after the ``failures``-th failure of a series.

        This is ``min(initial_delay * backoff_factor ** (failures - 1), max_delay)``, computed
        without overflowing for very long series.

        Args:
            failures: the failure count of the current series, at least 1.

        Returns:
            The delay in seconds, never more than ``max_delay``.

        Raises:
            ValueError: if ``failures`` is less than 1.
        """
        if failures < 1:
            raise ValueError(f"failures must be >= 1, got {failures!r}")
        if self.initial_delay == 0.0:
            return 0.0
        try:
            raw = self.initial_delay * self.backoff_factor ** (failures - 1)
        except OverflowError:
            # The power left the float range; decide on logarithms instead.
            exponent = math.log(self.initial_delay) + (failures - 1) * math.log(self.backoff_factor)
            return self.max_delay if exponent >= math.log(self.max_delay) else math.exp(exponent)
        return min(raw, self.max_delay)

    def delay(self, failures: int, rng: random.Random) -> float:
        """The jittered delay before the restart that follows the ``failures``-th failure.

        ``max(0, base * (1 + uniform(-jitter, +jitter)))``. With ``jitter == 0`` the base delay is
        returned and ``rng`` is not used, so the random stream is left untouched.

        Args:
            failures: the failure count of the current series, at least 1.
            rng: the random source for the jitter.

        Returns:
            The delay in seconds, at least 0.
        """
        base = self.base_delay(failures)
        if self.jitter == 0.0:
            return base
        return max(0.0, base * (1.0 + rng.uniform(-self.jitter, self.jitter)))


@attrs.frozen
class RestartDecision:
    """What the supervisor does after one failure (the output of :func:`decide_restart`).

    Attributes:
        failures: the new failure count of the series (stored back on the service).
        give_up: ``True`` when ``max_attempts`` runs of this series have failed.
        delay: the delay before the next start attempt in seconds; ``None`` when giving up.

    .. versionadded:: 0.1.0
    """

    failures: int
    give_up: bool
    delay: float | None

    @property
    def next_attempt(self) -> int:
        """The number of the next run in the series (1-based), as shown in the logs."""
        return self.failures + 1


def decide_restart(
    policy: RestartPolicy,
    *,
    failures: int,
    run_length: float | None,
    stable_threshold: float,
    rng: random.Random,
) -> RestartDecision:
    """Apply the restart algorithm to one failure.

    See docs/reference/services.md, "Restart algorithm".

    The caller has already checked that the service is still meant to run (a failure while
    stopping is not a failure) and that the outcome is restartable.

    Args:
        policy: the service's restart policy.
        failures: the failure count before this failure.
        run_length: how long the failed run was ``running``, in seconds; ``None`` for a failed
            start attempt, which is a run of length 0 and can never reset the counter, even with
            ``stable_threshold == 0``.
        stable_threshold: a run at least this long ends the previous series.
        rng: the random source for the jitter (not used when ``policy.jitter == 0`` or when
            giving up).

    Returns:
        The new failure count and whether to give up or how long to wait.

    .. versionadded:: 0.1.0
    """
    if run_length is not None and run_length >= stable_threshold:
        failures = 0
    failures += 1
    if policy.max_attempts > 0 and failures >= policy.max_attempts:
        return RestartDecision(failures=failures, give_up=True, delay=None)
    return RestartDecision(failures=failures, give_up=False, delay=policy.delay(failures, rng))
