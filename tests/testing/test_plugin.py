"""The pytest plugin, used the way a user project uses it.

Each test writes a small project (an orrery app plus its tests) with pytest's
``pytester`` and runs pytest on it: the plugin comes from orrery's ``pytest11``
entry point, exactly as in a project that merely installed orrery.
"""

from __future__ import annotations

import pytest

APP_INDEX = """
version: "1.0"
namespace: app
entries:
  - {name: processes, kind: process.host, lifecycle: {auto_start: true}}
  - {name: greeter, kind: process.lua, source: file://greeter.lua}
  - {name: main, kind: function.lua, source: file://main.lua}
  - {name: reminder, kind: process.lua, source: file://reminder.lua, modules: [time]}
"""

GREETER = """
local function main(greeting)
  local inbox = process.inbox()
  while true do
    local msg = inbox:receive()
    process.send(msg:from(), "reply", greeting .. ", " .. msg:payload():data())
  end
end
return {main = main}
"""

MAIN = """
return function(name)
  local replies = process.listen("reply")
  local pid = assert(process.spawn("app:greeter", "app:processes", "Hello"))
  process.send(pid, "hello", name)
  return replies:receive()
end
"""

REMINDER = """
local time = require("time")
local function main(to, what)
  time.sleep("24h")
  process.send(to, "remind", what)
end
return {main = main}
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user project: one app under app/ and an ini file naming it."""
    pytester.makefile(".yaml", **{"app/_index": APP_INDEX})
    pytester.makefile(".lua", **{"app/greeter": GREETER, "app/main": MAIN})
    pytester.makefile(".lua", **{"app/reminder": REMINDER})
    pytester.makeini("[pytest]\norrery_apps = app\n")
    return pytester


def test_async_tests_get_a_node_a_probe_and_virtual_time(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_app="""
        import pytest, trio

        async def test_main_greets(node):
            assert await node.call("app:main", "Ada") == "Hello, Ada"

        async def test_the_greeter_replies_to_the_probe(node, probe):
            pid = await node.spawn("app:greeter", "app:processes", "Hi")
            await probe.send(pid, "hello", "Grace")
            assert (await probe.expect("reply")).payload == "Hi, Grace"

        @pytest.mark.autojump
        async def test_a_day_passes_in_no_time(node, probe):
            start = trio.current_time()
            await node.spawn("app:reminder", "app:processes", probe.pid, "tea")
            assert (await probe.expect("remind", timeout=90000)).payload == "tea"
            assert 86400 <= trio.current_time() - start < 86401

        async def test_every_test_has_a_fresh_node(node):
            assert node.lookup("greeter") is None
        """
    )
    result = project.runpytest("-q")
    result.assert_outcomes(passed=4)


def test_a_failed_expectation_reads_as_a_plain_failure(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_fail="""
        async def test_wrong_topic(node, probe):
            pid = await node.spawn("app:greeter", "app:processes", "Hi")
            await probe.send(pid, "hello", "Grace")
            await probe.expect("goodbye")
        """
    )
    result = project.runpytest("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ExpectationFailed: probe * expected a message 'goodbye', got 'reply' from * "
            "with payload 'Hi, Grace'"
        ]
    )
    result.stdout.no_fnmatch_line("*ExceptionGroup*")


def test_the_node_marker_and_the_factory_take_app_dirs_and_overrides(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".yaml", **{"apps/app/_index": APP_INDEX})
    pytester.makefile(".lua", **{"apps/app/greeter": GREETER, "apps/app/main": MAIN})
    pytester.makefile(".lua", **{"apps/app/reminder": REMINDER})
    pytester.makepyfile(
        test_marked="""
        import orrery, pytest

        @pytest.mark.orrery_node("apps/app", overrides=["app:processes:host.max_processes=1"])
        async def test_marked(node):
            await node.spawn("app:greeter", "app:processes", "Hi")
            with pytest.raises(orrery.errors.Unavailable):
                await node.spawn("app:greeter", "app:processes", "Hi")

        async def test_factory(node_factory, tmp_path):
            async with node_factory("apps/app") as one, node_factory(["apps/app"]) as two:
                assert await one.call("app:main", "A") == "Hello, A"
                assert await two.call("app:main", "B") == "Hello, B"
                assert one.state_dir != two.state_dir
                assert one.state_dir.parent == tmp_path
        """
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=2)


def test_a_sync_test_asking_for_a_node_is_told_to_be_async(project: pytest.Pytester) -> None:
    project.makepyfile(test_sync="def test_sync(node):\n    pass\n")
    result = project.runpytest("-q")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*the fixtures node live inside a trio run; make the test*"])


def test_without_apps_the_node_fixture_says_how_to_name_them(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_none="async def test_x(node):\n    pass\n")
    result = pytester.runpytest("-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the node fixture needs apps: mark the test with*"])


def test_strict_mode_leaves_unmarked_async_tests_to_other_plugins(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\norrery_trio_mode = strict\n")
    pytester.makepyfile(
        test_strict="""
        import pytest, trio

        async def test_unmarked():
            await trio.sleep(0)

        @pytest.mark.orrery_trio
        async def test_marked():
            await trio.sleep(0)
        """
    )
    result = pytester.runpytest("-q")
    # pytest itself refuses the unmarked coroutine test: nobody claimed it
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_unmarked*", "async def functions are not natively*"])


def test_tests_marked_for_another_async_plugin_are_left_alone(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nmarkers =\n    anyio: run under anyio\n")
    pytester.makepyfile(
        test_other="""
        import pytest

        @pytest.mark.anyio
        async def test_theirs():
            pass
        """
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(failed=1)  # anyio is not installed here, so pytest refuses it
    result.stdout.fnmatch_lines(["async def functions are not natively*"])
