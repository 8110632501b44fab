"""Messages, topics, inbox and listen.

See docs/reference/lua-modules.md, "process", "Receiving"; docs/reference/semantics.md, "Messages
and ordering".
"""

from __future__ import annotations

from typing import Any

from ._support import run_on_host


async def run(case: str, host: str, *args: object) -> Any:
    return await run_on_host("msg", case, host, *args)


async def test_listen_data_form_is_the_value_nil_or_an_array(host: str) -> None:
    """listen(topic) yields the single value, nil for no value, an array for several."""
    assert await run("listen_data_forms", host) == {
        "one": 7,
        "zero_is_nil": True,
        "several": [1, "two", [3]],
    }


async def test_listen_with_message_true_yields_message_objects(host: str) -> None:
    """listen(topic, {message=true}) yields Messages with topic, sender and a Payload."""
    assert await run("message_objects", host) == {
        "topic": "m",
        "from_parent": True,
        "data": {"k": "v"},
        "empty_has_payload": True,
        "empty_data_is_nil": True,
    }


async def test_inbox_yields_messages_of_every_topic_in_order(host: str) -> None:
    """process.inbox() delivers Messages of any topic, in send order, with the sender PID."""
    assert await run("inbox_messages", host) == [
        {"topic": "first", "from_parent": True, "data": 1},
        {"topic": "second", "from_parent": True},
        {"topic": "third", "from_parent": True, "data": ["a", "b"]},
    ]


async def test_a_thousand_messages_from_one_sender_arrive_in_order(host: str) -> None:
    """Messages from one sender to one receiver are received in send order."""
    assert await run("fifo", host, 1000) == {"in_order": True, "count": 1000}


async def test_messages_a_process_sent_are_queued_before_its_exit(host: str) -> None:
    """All messages sent before a process ended precede its EXIT at the receiver."""
    assert await run("messages_before_exit", host, 200) == {"in_order": True, "last": "marker"}


async def test_messages_sent_before_listen_are_kept_in_order(host: str) -> None:
    """Messages that arrive before a matching subscription are delivered once it exists."""
    assert await run("kept_before_listen", host) == [1, 2, 3, 4, 5]


async def test_switching_from_inbox_to_listen_routes_later_messages_to_listen(host: str) -> None:
    """After listen(t), new messages of topic t go to that channel; others stay in the inbox."""
    assert await run("inbox_then_listen", host) == {
        "first": ["a", 1],
        "second": 2,
        "other": ["b", 3],
    }


async def test_a_listened_topic_bypasses_the_inbox(host: str) -> None:
    """A message whose topic has a listen subscription is not delivered to the inbox."""
    assert await run("listen_beats_inbox", host) == {
        "inbox": ["b", "for the inbox"],
        "listened": "for a",
    }


async def test_reserved_and_empty_topics_are_invalid(host: str) -> None:
    """send and listen refuse topics starting with @ and empty topics with kind Invalid."""
    refused = {"returned_nil": True, "kind": "Invalid"}
    assert await run("reserved", host) == {
        "send_reserved": refused,
        "send_empty": refused,
        "listen_reserved": refused,
        "listen_empty": refused,
    }


async def test_listen_in_the_other_mode_is_invalid(host: str) -> None:
    """listen returns the same channel again, but a different mode for a topic is Invalid."""
    refused = {"returned_nil": True, "kind": "Invalid"}
    assert await run("modes", host) == {
        "same_data_channel": True,
        "same_message_channel": True,
        "data_then_message": refused,
        "message_then_data": refused,
    }


async def test_a_process_can_send_to_itself(host: str) -> None:
    """Sending to your own PID puts the message in your own mailbox."""
    assert await run("to_self", host) == {
        "ok": True,
        "topic": "me",
        "from_self": True,
        "data": [42, "x"],
    }


async def test_closing_a_listen_channel_sends_the_topic_back_to_the_inbox(host: str) -> None:
    """After ch:close() on a listen channel, later messages of that topic reach the inbox."""
    assert await run("unsubscribe", host) == {"first": 1, "then_inbox": ["a", 2]}


async def test_wrong_argument_types_raise_and_missing_arguments_return_invalid(host: str) -> None:
    """A table destination or number topic raises Invalid; a missing one returns nil, Invalid."""
    assert await run("bad_arguments", host) == {
        "table_dest": {"raised": True, "kind": "Invalid"},
        "number_topic": {"raised": True, "kind": "Invalid"},
        "missing_dest": {"returned_nil": True, "kind": "Invalid"},
        "missing_topic": {"returned_nil": True, "kind": "Invalid"},
    }
