"""Workers of different clients may poll task queues of the same name.

Two ``temporal.client`` entries (two embedded servers, two namespaces) each
have a worker on a task queue called ``shared``. Each worker runs its workflows
with its own identity, and stopping one leaves the other serving.
"""

from __future__ import annotations

from pathlib import Path

import orrery
import trio

APP = Path(__file__).parent / "apps" / "twoservers"


async def test_workers_on_two_clients_with_one_task_queue_name_keep_their_own_context() -> None:
    async with orrery.open_node([APP]) as node:
        with trio.fail_after(30):
            on_a = await node.exec("two:whoami", "two:wa", name="w1")
            on_b = await node.exec("two:whoami", "two:wb", name="w1")
        assert on_a == {"pid": "{two:a@two:wa|w1}", "namespace": "default"}
        assert on_b == {"pid": "{two:b@two:wb|w1}", "namespace": "other"}

        await node.stop_service("two:wb")
        with trio.fail_after(30):
            again = await node.exec("two:whoami", "two:wa", name="w2")
        assert again == {"pid": "{two:a@two:wa|w2}", "namespace": "default"}
