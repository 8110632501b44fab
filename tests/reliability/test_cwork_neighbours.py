"""A ticker keeps ticking next to attacks on C library work (docs/sandbox.md).

Each attack below used to hold the node's Lua state for seconds inside one step. The
case runs them one after another between ticks of a process that sleeps 50 ms in a loop:
after every attack the ticker must deliver a newer tick, so it ran between the attacks
(counted in events, never in wall time).
"""

from __future__ import annotations

from pathlib import Path

import orrery

APP = Path(__file__).parent / "apps" / "cwork"
ATTACKS = ["rep_of_nothing", "move_huge", "insert_front", "concat_over_index", "sort_big"]


async def test_the_ticker_ticks_between_attacks_that_each_end_with_the_budget() -> None:
    """Every attack is stopped or refused, and the ticker advanced after each of them."""
    async with orrery.open_node([APP]) as node:
        result = await node.call("t.cwork:cases", ATTACKS)
    assert result["ticks"] >= len(ATTACKS) + 1
    results = result["results"]
    assert results.pop("rep_of_nothing") == "returned"  # string.rep("", n) is "" at once
    for name, message in results.items():
        assert message.startswith("t.cwork:attack: step budget exceeded"), (name, message)
