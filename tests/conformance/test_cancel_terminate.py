"""Cancel versus terminate.

See docs/reference/semantics.md, "Cancel and terminate"; docs/reference/lua-modules.md, "Stopping",
"Monitors and links".
"""

from __future__ import annotations

import pytest

from ._support import NATIVE, run_case, run_on_host

# A Lua table drops nil fields: the missing "retryable" key says retryable is nil.
TERMINATED = {"kind": "Canceled", "message": "terminated"}
DEADLINE = {"kind": "Canceled", "message": "cancel deadline exceeded"}

#: How a terminated process ends on each host (docs/reference/semantics.md, "Outcomes";
#: docs/reference/temporal.md, "Error mapping").
TERMINATED_ON = {
    "native": TERMINATED,
    "temporal": {"kind": "Canceled", "message": "workflow terminated", "retryable": False},
}


async def test_terminate_stops_another_process_with_canceled_terminated(host: str) -> None:
    """terminate returns true and the target ends with the host's Canceled 'terminated' error."""
    result = await run_on_host("cancel", "terminate_other", host)
    assert (result["ok"], result["error"]) == (True, TERMINATED_ON[host])


async def test_terminating_yourself_ends_the_process_at_once() -> None:
    """A process that terminates itself runs no more code: its later send never happens.

    Native only: inside a workflow, terminate is a cancel request (docs/reference/lua-modules.md,
    "Stopping").
    """
    assert await run_case("cancel", "terminate_self", NATIVE) == {
        "error": TERMINATED,
        "value_is_nil": True,
        "topics": ["before", "marker"],
    }


async def test_cancel_delivers_a_cancel_event_with_from_reason_and_at(host: str) -> None:
    """The target reads a pid.cancel event naming the sender and reason, with no deadline."""
    assert await run_on_host("cancel", "cancel_with_reason", host) == {
        "ok": True,
        "exit_error_is_nil": True,
        "kind": "pid.cancel",
        "from_parent": True,
        "reason": "shutdown requested",
        "deadline_is_nil": True,
        "at_is_rfc3339": True,
    }


async def test_cancel_without_a_reason_gives_an_empty_reason(host: str) -> None:
    """The reason defaults to the empty string."""
    assert await run_on_host("cancel", "cancel_without_reason", host) == ""


async def test_cancel_with_a_deadline_puts_an_rfc3339_deadline_in_the_event(host: str) -> None:
    """A CANCEL sent with {deadline = ...} carries the deadline as an RFC 3339 string."""
    assert await run_on_host("cancel", "cancel_event_deadline", host) == {
        "reason": "hurry",
        "deadline_is_rfc3339": True,
    }


@pytest.mark.autojump
@pytest.mark.parametrize("form", ["options_string", "options_ms", "legacy_string", "legacy_ms"])
async def test_a_target_ignoring_cancel_is_terminated_at_the_deadline(host: str, form: str) -> None:
    """{deadline="100ms"}, {deadline=100}, cancel(pid, "100ms"), cancel(pid, 100) mean 100 ms."""
    assert await run_on_host("cancel", "deadline", host, form) == {
        "ok": True,
        "error": DEADLINE,
        "waited_100ms": True,
    }


@pytest.mark.autojump
@pytest.mark.parametrize(("first", "second"), [("10s", "200ms"), ("200ms", "10s")])
async def test_the_earliest_cancel_deadline_applies(host: str, first: str, second: str) -> None:
    """With several cancel deadlines, the target is terminated at the earliest one."""
    result = await run_on_host("cancel", "earliest_deadline", host, first, second)
    assert result["error"] == DEADLINE
    assert 200 <= result["ms"] < 1000


@pytest.mark.autojump
async def test_a_cancel_deadline_outlives_the_process_that_set_it(host: str) -> None:
    """The target is terminated at the deadline even though the canceller has ended."""
    assert await run_on_host("cancel", "deadline_outlives_issuer", host) == {
        "issuer": "cancelled",
        "target": DEADLINE,
    }


async def test_returning_normally_after_a_cancel_is_a_success(host: str) -> None:
    """A cancelled process that returns has a successful exit and does not trigger links."""
    assert await run_on_host("cancel", "cancel_then_normal_return_is_success", host) == {
        "error_is_nil": True,
        "reason": "bye",
    }


async def test_each_cancel_produces_one_event(host: str) -> None:
    """Several cancels give several CANCEL events, in order."""
    assert await run_on_host("cancel", "several_cancels", host) == {
        "count": 3,
        "reasons": ["one", "two", "three"],
    }


async def test_cancel_or_terminate_of_a_dead_process_is_not_found() -> None:
    """Cancelling or terminating a process that has ended fails with NotFound."""
    refused = {"returned_nil": True, "kind": "NotFound"}
    assert await run_case("cancel", "dead_targets", NATIVE) == {
        "cancel": refused,
        "terminate": refused,
    }


async def test_terminate_is_a_failure_for_links() -> None:
    """A trapping peer of a terminated process gets EXIT then LINK_DOWN with 'terminated'."""
    assert await run_case("cancel", "terminate_triggers_links", NATIVE) == {
        "kinds": ["pid.exit", "pid.link.down"],
        "link_down_error": TERMINATED,
    }
