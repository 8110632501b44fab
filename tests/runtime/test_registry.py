"""Tests of the registry loader: YAML trees in, validated records or rendered problems out.

Every test writes a small source tree under ``tmp_path`` (the working directory, so problem
lines show paths such as ``app/x.yaml``) and checks what ``load_registry`` returns or the lines
of the ``RegistryError`` it raises (docs/reference/yaml-kinds.md, "Errors").
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest
from orrery.runtime._errors import InvalidError, NotFound, Problem, RegistryError
from orrery.runtime._registry import (
    LUA_KINDS,
    MODULES,
    SERVICE_KINDS,
    DevServerSpec,
    HostEntry,
    Lifecycle,
    LuaEntry,
    Registry,
    RestartSpec,
    ServiceEntry,
    TemporalClientEntry,
    TemporalWorkerEntry,
    load_registry,
)

LUA = "return {main = function() end}\n"

# The services most tests refer to; lines: processes 3, temporal 5, worker 8.
BASE = """
namespace: app
entries:
  - name: processes
    kind: process.host
  - name: temporal
    kind: temporal.client
    address: localhost:7233
  - name: worker
    kind: temporal.worker
    client: temporal
    task_queue: main
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORRERY_NODE", raising=False)


def write(files: Mapping[str, str | bytes], root: str = "app") -> None:
    """Writes files below ``root``; text is dedented and starts at line 1."""
    for name, content in files.items():
        path = Path(root) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")


def tree(entries: str, *, base: bool = True, lua: bool = True) -> dict[str, str]:
    """A tree with ``entries`` (YAML list items, namespace ``app``) in ``app/x.yaml``."""
    body = textwrap.dedent(entries).strip("\n")
    files = {
        "x.yaml": f"namespace: app\nentries:\n{body}\n" if body else "namespace: app\nentries: []\n"
    }
    if base:
        files["_base.yaml"] = BASE
    if lua:
        files["main.lua"] = LUA
    return files


def load(files: Mapping[str, str | bytes], **kwargs: object) -> Registry:
    write(files)
    return load_registry(["app"], **kwargs)  # type: ignore[arg-type]


def fails(files: Mapping[str, str | bytes], **kwargs: object) -> list[str]:
    """Loads a tree that must fail; returns the rendered problem lines."""
    write(files)
    with pytest.raises(RegistryError) as info:
        load_registry(["app"], **kwargs)  # type: ignore[arg-type]
    header, *lines = str(info.value).splitlines()
    count = len(info.value.problems)
    assert header == f"registry has {count} problem{'' if count == 1 else 's'}:"
    assert all(line.startswith("  ") for line in lines)
    return [line[2:] for line in lines]


def fails_once(files: Mapping[str, str | bytes], **kwargs: object) -> str:
    lines = fails(files, **kwargs)
    assert len(lines) == 1, lines
    return lines[0]


def at(line: int, entry: str, kind: str, field: str, message: str) -> str:
    """The rendered problem for an entry in ``app/x.yaml``."""
    return f'app/x.yaml:{line}: entry "app:{entry}" ({kind}): field "{field}": {message}'


# --------------------------------------------------------------------------- valid trees


class TestValidTree:
    def test_multi_file_tree_loads_with_models_and_defaults(self) -> None:
        registry = load(
            {
                "_index.yaml": """
                version: "1.0"
                namespace: app
                entries:
                  - name: processes
                    kind: process.host
                    host: {max_processes: 50}
                    lifecycle: {auto_start: true}
                  - name: temporal
                    kind: temporal.client
                    dev_server:
                      search_attributes: {CustomerId: keyword}
                    lifecycle: {auto_start: true}
                  - name: worker
                    kind: temporal.worker
                    client: temporal
                    task_queue: examples
                    lifecycle:
                      auto_start: true
                      depends_on: [temporal]
                """,
                "shop/_index.yaml": """
                namespace: shop
                entries:
                  - name: keeper
                    kind: process.lua
                    source: file://keeper.lua
                    method: run
                    modules: [time, json]
                  - name: keeper_svc
                    kind: process.service
                    process: keeper
                    host: app:processes
                    input: [1, "two", {three: 3}, [4]]
                    lifecycle:
                      auto_start: true
                      requires: [app:worker]
                      stop_timeout: 2s
                      restart:
                        initial_delay: 200ms
                        backoff_factor: 1.5
                        max_delay: 1m30s
                        jitter: 0
                        max_attempts: 5
                  - name: charge
                    kind: function.lua
                    source: file://keeper.lua
                    meta: {temporal: {activity: {worker: app:worker}}, comment: kept}
                  - name: flow
                    kind: workflow.lua
                    source: file://flow.lua
                    modules: [funcs, workflow]
                    meta: {temporal: {workflow: {worker: app:worker, name: Flow}}}
                """,
                "shop/keeper.lua": LUA,
                "shop/flow.lua": LUA,
            }
        )
        assert list(registry.entries) == [
            "app:processes",
            "app:temporal",
            "app:worker",
            "shop:keeper",
            "shop:keeper_svc",
            "shop:charge",
            "shop:flow",
        ]
        host = registry.require("app:processes")
        assert isinstance(host, HostEntry)
        assert host.max_processes == 50
        assert host.lifecycle == Lifecycle(auto_start=True)
        assert (host.file, host.line, host.namespace, host.name) == (
            "app/_index.yaml",
            4,
            "app",
            "processes",
        )

        client = registry.require("app:temporal")
        assert isinstance(client, TemporalClientEntry)
        assert client.address is None
        assert client.temporal_namespace == "default"
        assert client.connection_timeout == 10.0
        assert client.dev_server == DevServerSpec(
            enabled=True, search_attributes={"CustomerId": "keyword"}
        )

        worker = registry.require("app:worker")
        assert isinstance(worker, TemporalWorkerEntry)
        assert (worker.client, worker.task_queue) == ("app:temporal", "examples")
        assert worker.lifecycle.requires == ("app:temporal",)
        assert dict(worker.worker_options) == {}

        keeper = registry.require("shop:keeper")
        assert isinstance(keeper, LuaEntry)
        assert keeper.method == "run"
        assert keeper.modules == ("time", "json")
        assert keeper.source.path == Path("app/shop/keeper.lua").absolute()
        assert keeper.source.display == "app/shop/keeper.lua"
        assert keeper.source.text == LUA
        assert (keeper.workflow_worker, keeper.activity_worker) == (None, None)

        service = registry.require("shop:keeper_svc")
        assert isinstance(service, ServiceEntry)
        assert (service.process, service.host) == ("shop:keeper", "app:processes")
        assert service.input == (1, "two", {"three": 3}, [4])
        assert service.lifecycle == Lifecycle(
            auto_start=True,
            requires=("app:worker",),
            stop_timeout=2.0,
            restart=RestartSpec(
                initial_delay=0.2, max_delay=90.0, backoff_factor=1.5, jitter=0.0, max_attempts=5
            ),
        )

        charge = registry.require("shop:charge", "function.lua")
        assert isinstance(charge, LuaEntry)
        assert charge.activity_worker == "app:worker"
        assert charge.method == "main"
        assert charge.meta["comment"] == "kept"
        assert charge.meta["temporal"] == {"activity": {"worker": "app:worker"}}

        flow = registry.require("shop:flow")
        assert isinstance(flow, LuaEntry)
        assert (flow.workflow_worker, flow.workflow_name) == ("app:worker", "Flow")

        assert registry.config.root == Path("app").absolute()

    def test_defaults_of_every_service_kind(self) -> None:
        registry = load(tree(""))
        host = registry.require("app:processes")
        assert isinstance(host, HostEntry)
        assert host.max_processes == 0
        assert host.lifecycle == Lifecycle(
            auto_start=False,
            requires=(),
            start_timeout=10.0,
            stop_timeout=10.0,
            stable_threshold=5.0,
            restart=RestartSpec(1.0, 90.0, 2.0, 0.1, 0),
        )
        client = registry.require("app:temporal")
        assert isinstance(client, TemporalClientEntry)
        assert client.address == "localhost:7233"
        assert client.dev_server is None
        assert dict(host.meta) == {}

    def test_files_load_in_sorted_relative_path_order(self) -> None:
        files = {
            "b.yaml": "namespace: b\nentries: [{name: e, kind: process.host}]\n",
            "a/z.yml": "namespace: az\nentries: [{name: e, kind: process.host}]\n",
            "a.yaml": "namespace: a\nentries: [{name: e, kind: process.host}]\n",
            "c/_index.yaml": "namespace: c\nentries: [{name: e, kind: process.host}]\n",
            "c/notes.txt": "not yaml",
            ".hidden.yaml": "this: is: not: read",
            ".git/x.yaml": "neither: [",
            "c/.cache/y.yaml": "nor: [",
        }
        registry = load(files)
        assert list(registry.entries) == ["a:e", "az:e", "b:e", "c:e"]

    def test_several_roots_load_in_the_given_order(self) -> None:
        write({"x.yaml": "namespace: one\nentries: [{name: h, kind: process.host}]\n"}, "r1")
        write({"x.yaml": "namespace: two\nentries: [{name: h, kind: process.host}]\n"}, "r2")
        registry = load_registry(["r2", Path("r1")])
        assert list(registry.entries) == ["two:h", "one:h"]
        assert registry.config.root == Path("r2").absolute()

    def test_references_resolve_bare_names_in_the_entry_namespace(self) -> None:
        registry = load(
            {
                "_base.yaml": BASE,
                "svc.yaml": """
                namespace: app.svc
                entries:
                  - {name: processes, kind: process.host}
                  - {name: proc, kind: process.lua, source: file://main.lua}
                  - {name: local, kind: process.service, process: proc, host: processes}
                  - {name: other, kind: process.service, process: proc, host: app:processes}
                """,
                "main.lua": LUA,
            }
        )
        assert registry.dependencies("app.svc:local") == ("app.svc:processes",)
        assert registry.dependencies("app.svc:other") == ("app:processes",)

    def test_requires_and_depends_on_are_merged_without_duplicates(self) -> None:
        registry = load(
            tree(
                """
                - name: svc
                  kind: temporal.worker
                  client: temporal
                  task_queue: q
                  lifecycle:
                    requires: [processes, app:worker]
                    depends_on: [worker, temporal, processes]
                """
            )
        )
        worker = registry.require("app:svc")
        assert isinstance(worker, TemporalWorkerEntry)
        assert worker.lifecycle.requires == ("app:processes", "app:worker", "app:temporal")
        assert registry.dependencies("app:svc") == (
            "app:processes",
            "app:worker",
            "app:temporal",
        )
        assert registry.dependencies("app:worker") == ("app:temporal",)
        assert registry.dependencies("app:processes") == ()

    def test_anchors_aliases_and_merge_keys_are_allowed(self) -> None:
        registry = load(
            tree(
                """
                - name: a
                  kind: function.lua
                  source: file://main.lua
                  meta: &activity {temporal: {activity: {worker: app:worker}}}
                - {name: b, kind: function.lua, source: file://main.lua, meta: *activity}
                - &proc {name: c, kind: process.lua, source: file://main.lua, modules: [time]}
                - <<: *proc
                  name: d
                """
            )
        )
        assert [e.activity_worker for e in registry.of_kind("function.lua")] == [  # type: ignore[attr-defined]
            "app:worker",
            "app:worker",
        ]
        d = registry.require("app:d")
        assert isinstance(d, LuaEntry)
        assert d.modules == ("time",)

    def test_modules_drop_always_available_globals_and_duplicates(self) -> None:
        registry = load(
            tree(
                """
                - name: p
                  kind: process.lua
                  source: file://main.lua
                  modules: [errors, time, process, time, channel, json]
                """
            )
        )
        entry = registry.require("app:p")
        assert isinstance(entry, LuaEntry)
        assert entry.modules == ("time", "json")

    def test_workflow_without_worker_is_allowed(self) -> None:
        registry = load(tree("- {name: flow, kind: workflow.lua, source: file://main.lua}"))
        flow = registry.require("app:flow")
        assert isinstance(flow, LuaEntry)
        assert (flow.workflow_worker, flow.workflow_name) == (None, None)

    def test_meta_is_not_validated(self) -> None:
        registry = load(
            tree(
                """
                - name: h
                  kind: process.host
                  meta: {type: service, comment: anything, temporal: whatever, n: [1, {x: y}]}
                """
            )
        )
        assert registry.require("app:h").meta == {
            "type": "service",
            "comment": "anything",
            "temporal": "whatever",
            "n": [1, {"x": "y"}],
        }

    def test_worker_options_are_validated_and_converted(self) -> None:
        registry = load(
            tree(
                """
                - name: w
                  kind: temporal.worker
                  client: temporal
                  task_queue: q
                  worker_options:
                    identity: me
                    max_concurrent_activity_execution_size: 10
                    worker_activities_per_second: 2.5
                    sticky_schedule_to_start_timeout: 10s
                    worker_stop_timeout: 0s
                    disable_eager_activities: true
                    default_versioning_behavior: pinned
                """
            )
        )
        worker = registry.require("app:w")
        assert isinstance(worker, TemporalWorkerEntry)
        assert dict(worker.worker_options) == {
            "identity": "me",
            "max_concurrent_activity_execution_size": 10,
            "worker_activities_per_second": 2.5,
            "sticky_schedule_to_start_timeout": 10.0,
            "worker_stop_timeout": 0.0,
            "disable_eager_activities": True,
            "default_versioning_behavior": "pinned",
        }

    def test_dev_server_fields(self) -> None:
        registry = load(
            tree(
                """
                - name: t
                  kind: temporal.client
                  namespace: orders
                  connection_timeout: 3s
                  dev_server:
                    enabled: true
                    ip: 0.0.0.0
                    port: 7233
                    ui: true
                    database_file: ":memory:"
                    log_level: error
                    extra_args: [--foo, bar]
                """
            )
        )
        client = registry.require("app:t")
        assert isinstance(client, TemporalClientEntry)
        assert client.temporal_namespace == "orders"
        assert client.connection_timeout == 3.0
        assert client.dev_server == DevServerSpec(
            enabled=True,
            ip="0.0.0.0",
            port=7233,
            ui=True,
            database_file=":memory:",
            log_level="error",
            extra_args=("--foo", "bar"),
        )

    def test_address_with_disabled_dev_server(self) -> None:
        registry = load(
            tree(
                """
                - name: t
                  kind: temporal.client
                  address: temporal:7233
                  dev_server: {enabled: false, port: 1}
                """
            )
        )
        client = registry.require("app:t")
        assert isinstance(client, TemporalClientEntry)
        assert (client.address, client.dev_server) == ("temporal:7233", None)

    def test_version_forms(self) -> None:
        write({"a.yaml": 'version: "1.0"\nnamespace: a\nentries: []\n'})
        write({"b.yml": "version: 1.0\nnamespace: b\nentries: []\n"})
        assert dict(load_registry(["app"]).entries) == {}

    def test_accepted_wippy_fields_are_ignored_with_one_info_line_each(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger="orrery.registry")
        registry = load(
            tree(
                """
                - name: h
                  kind: process.host
                  host: {workers: 8, queue_size: 100, local_queue_size: 10}
                  lifecycle: {security: {actor: {id: x}}}
                - name: f
                  kind: function.lua
                  source: file://main.lua
                  pool: {size: 4, workers: 2}
                """
            )
        )
        assert isinstance(registry.require("app:h"), HostEntry)
        ignored = [r.getMessage() for r in caplog.records if r.name == "orrery.registry"]
        assert len(ignored) == 5
        for field in ("host.workers", "host.queue_size", "host.local_queue_size"):
            assert any(f"app:h: field {field} is accepted" in m for m in ignored)
        assert any("app:h: field lifecycle.security is accepted" in m for m in ignored)
        assert any("app:f: field pool is accepted" in m for m in ignored)

    def test_extended_features_in_their_unused_form_are_accepted(self) -> None:
        registry = load(
            tree(
                """
                - name: t
                  kind: temporal.client
                  address: localhost:7233
                  tq_prefix: ""
                  auth: {type: none}
                  tls: {enabled: false, insecure_skip_verify: false}
                  health_check: {enabled: false, interval: 10s}
                  lifecycle: {startup: required}
                - name: f
                  kind: function.lua
                  source: file://main.lua
                  imports: {}
                  meta: {temporal: {activity: {worker: worker, local: false}}}
                """
            )
        )
        assert set(registry.entries) >= {"app:t", "app:f"}


class TestRegistryApi:
    @pytest.fixture
    def registry(self) -> Registry:
        return load(
            tree(
                """
                - {name: p, kind: process.lua, source: file://main.lua}
                - {name: f, kind: function.lua, source: file://main.lua}
                - {name: s, kind: process.service, process: p, host: processes}
                - name: g
                  kind: process.supervisor
                  host: processes
                  children: [{id: c, process: p}]
                """
            )
        )

    def test_get(self, registry: Registry) -> None:
        assert registry.get("app:p") is registry.entries["app:p"]
        assert registry.get("app:nope") is None

    def test_require_checks_existence_and_kind(self, registry: Registry) -> None:
        assert registry.require("app:f", "function.lua").kind == "function.lua"
        with pytest.raises(NotFound, match="entry app:x not found"):
            registry.require("app:x")
        with pytest.raises(InvalidError) as info:
            registry.require("app:f", "process.lua", "workflow.lua")
        assert str(info.value) == (
            "entry app:f is a function.lua, expected process.lua or workflow.lua"
        )

    def test_of_kind_and_services_keep_load_order(self, registry: Registry) -> None:
        assert [e.id for e in registry.of_kind(*LUA_KINDS)] == ["app:p", "app:f"]
        assert [e.id for e in registry.services()] == [
            "app:processes",
            "app:temporal",
            "app:worker",
            "app:s",
            "app:g",
        ]
        assert {e.kind for e in registry.services()} == set(SERVICE_KINDS)

    def test_dependencies(self, registry: Registry) -> None:
        assert registry.dependencies("app:s") == ("app:processes",)
        assert registry.dependencies("app:g") == ("app:processes",)
        assert registry.dependencies("app:p") == ()
        with pytest.raises(NotFound):
            registry.dependencies("app:nope")

    def test_records_are_immutable(self, registry: Registry) -> None:
        entry = registry.require("app:p")
        with pytest.raises(AttributeError):
            entry.name = "q"  # type: ignore[misc]
        with pytest.raises(TypeError):
            registry.entries["app:q"] = entry  # type: ignore[index]
        with pytest.raises(TypeError):
            entry.meta["x"] = 1  # type: ignore[index]

    def test_entries_compare_by_value_and_hash_by_id(self, registry: Registry) -> None:
        again = load_registry(["app"])
        assert again.require("app:s") == registry.require("app:s")
        assert hash(registry.require("app:s")) == hash("app:s")
        assert len(set(registry.entries.values())) == len(registry.entries)

    def test_module_table(self) -> None:
        assert MODULES["time"] == set(LUA_KINDS)
        assert "workflow.lua" not in MODULES["env"]
        assert "workflow.lua" in MODULES["logger"]


class TestNodeConfig:
    def test_defaults(self) -> None:
        config = load(tree("", base=False)).config
        assert (config.node_name, config.log_level, config.shutdown_timeout) == (
            "local",
            "info",
            30.0,
        )

    def test_orrery_yaml_in_the_root(self) -> None:
        files = tree("", base=False)
        files["orrery.yaml"] = "node_name: n1\nlog_level: debug\nshutdown_timeout: 1m\n"
        files["sub/orrery.yaml"] = "namespace: sub\nentries: [{name: h, kind: process.host}]\n"
        registry = load(files)
        assert (registry.config.node_name, registry.config.log_level) == ("n1", "debug")
        assert registry.config.shutdown_timeout == 60.0
        assert "sub:h" in registry.entries  # only the root's orrery.yaml is configuration

    def test_warning_is_an_alias_of_warn(self) -> None:
        files = tree("", base=False)
        files["orrery.yaml"] = "log_level: warning\n"
        assert load(files).config.log_level == "warn"

    def test_node_name_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ORRERY_NODE", "edge-1")
        assert load(tree("", base=False)).config.node_name == "edge-1"

    def test_invalid_config(self, monkeypatch: pytest.MonkeyPatch) -> None:
        files = tree("", base=False)
        files["orrery.yaml"] = (
            "node_name: a:b\nlog_level: loud\nshutdown_timeout: 0s\nnode_nme: x\n"
        )
        lines = fails(files)
        assert lines == [
            'app/orrery.yaml:1: field "node_name": invalid node name "a:b" '
            '(letters, digits, "_", "." and "-" only)',
            'app/orrery.yaml:2: field "log_level": invalid value "loud"; expected one of '
            '"debug", "info", "warn", "warning", "error"',
            'app/orrery.yaml:3: field "shutdown_timeout": must be greater than 0 (got "0s")',
            'app/orrery.yaml:4: field "node_nme": unknown field (did you mean "node_name"?)',
        ]

    def test_invalid_node_name_in_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ORRERY_NODE", "bad name")
        assert fails_once(tree("", base=False)) == (
            '<registry>: field "node_name": invalid node name "bad name" in $ORRERY_NODE '
            '(letters, digits, "_", "." and "-" only)'
        )


# --------------------------------------------------------------------------- files


class TestFileRules:
    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (
                "- a\n- b\n",
                'app/x.yaml:1: expected a mapping with "namespace" and "entries", got a list',
            ),
            ("", 'app/x.yaml:1: expected a mapping with "namespace" and "entries", got null'),
            ("entries: []\n", 'app/x.yaml:1: field "namespace": required field is missing'),
            ('namespace: ""\nentries: []\n', 'app/x.yaml:1: field "namespace": must not be empty'),
            (
                "namespace: 5\nentries: []\n",
                'app/x.yaml:1: field "namespace": expected a string, got an integer (5)',
            ),
            (
                "namespace: app..x\nentries: []\n",
                'app/x.yaml:1: field "namespace": invalid namespace "app..x" (dot-separated '
                "segments, each matching [A-Za-z_][A-Za-z0-9_-]*)",
            ),
            (
                "namespace: 1app\nentries: []\n",
                'app/x.yaml:1: field "namespace": invalid namespace "1app" (dot-separated '
                "segments, each matching [A-Za-z_][A-Za-z0-9_-]*)",
            ),
            (
                "namespace: orrery\nentries: []\n",
                'app/x.yaml:1: field "namespace": namespace "orrery" is reserved for built-in '
                "entries",
            ),
            (
                "namespace: orrery.tools\nentries: []\n",
                'app/x.yaml:1: field "namespace": namespace "orrery.tools" is reserved for '
                "built-in entries",
            ),
            ("namespace: app\n", 'app/x.yaml:1: field "entries": required field is missing'),
            (
                "namespace: app\nentries: {a: 1}\n",
                'app/x.yaml:2: field "entries": expected a list, got a mapping',
            ),
            (
                "namespace: app\nentries: []\nentires: []\n",
                'app/x.yaml:3: field "entires": unknown top-level key (did you mean "entries"?)',
            ),
            (
                "namespace: app\nentries: []\noverride: {}\n",
                'app/x.yaml:3: field "override": unknown top-level key (allowed: version, '
                "namespace, entries)",
            ),
            (
                'version: "2.0"\nnamespace: app\nentries: []\n',
                'app/x.yaml:1: field "version": unsupported version "2.0" '
                '(only "1.0" is supported)',
            ),
            (
                "version: 1\nnamespace: app\nentries: []\n",
                'app/x.yaml:1: field "version": unsupported version 1 (only "1.0" is supported)',
            ),
            (
                "namespace: app\nentries:\n  - name: [\n",
                "app/x.yaml:4: invalid YAML: expected the node content, but found '<stream end>'",
            ),
            (
                "namespace: app\nentries: []\n---\nnamespace: b\n",
                "app/x.yaml:3: invalid YAML: expected a single document in the stream, but found "
                "another document",
            ),
            (
                "namespace: !!python/name:os.system app\nentries: []\n",
                "app/x.yaml:1: invalid YAML: could not determine a constructor for the tag "
                "'tag:yaml.org,2002:python/name:os.system'",
            ),
            (
                "namespace: app\nname: x\nkind: process.host\n",
                "app/x.yaml:1: single-entry files are not supported by this orrery build "
                '(put the entry in an "entries" list)',
            ),
            (
                "namespace: app\nentries:\n  - just a string\n",
                'app/x.yaml:3: field "entries[0]": expected an entry mapping, got a string '
                '("just a string")',
            ),
        ],
    )
    def test_file_level_problem(self, content: str, message: str) -> None:
        assert fails_once({"x.yaml": content}) == message

    def test_not_utf8(self) -> None:
        assert fails_once({"x.yaml": b"namespace: \xff\nentries: []\n"}) == (
            "app/x.yaml: file is not valid UTF-8 (byte 0xff at offset 11)"
        )

    def test_duplicate_keys_are_reported_with_both_lines(self) -> None:
        lines = fails(
            tree(
                """
                - name: h
                  kind: process.host
                  name: g
                - name: p
                  kind: process.lua
                  source: file://main.lua
                  meta: {a: 1, a: 2}
                """
            )
        )
        assert lines == [
            'app/x.yaml:5: duplicate key "name" (first defined at line 3)',
            'app/x.yaml:9: duplicate key "a" (first defined at line 9)',
        ]

    def test_missing_root(self) -> None:
        write(tree(""))
        with pytest.raises(RegistryError) as info:
            load_registry(["app", "nowhere", "app/main.lua"])
        assert str(info.value).splitlines()[1:] == [
            "  nowhere: source root does not exist",
            "  app/main.lua: source root is not a directory",
        ]

    def test_config_in_a_second_root_is_a_problem(self) -> None:
        write({"orrery.yaml": "node_name: a\n"}, "r1")
        write({"orrery.yaml": "node_name: b\n"}, "r2")
        with pytest.raises(RegistryError) as info:
            load_registry(["r1", "r2"])
        assert [p.render() for p in info.value.problems] == [
            "r2/orrery.yaml: only the first root's orrery.yaml is read (node configuration "
            "must be in one place)"
        ]

    def test_a_symlinked_yaml_file_leading_out_of_the_root_is_refused(self, tmp_path: Path) -> None:
        """A definition file linked from elsewhere is not read; the problem names the link."""
        write({"elsewhere.yaml": "namespace: other\nentries: [{name: h, kind: process.host}]\n"})
        Path("outside").mkdir()
        Path("app/elsewhere.yaml").rename("outside/elsewhere.yaml")
        write({"ok.yaml": "namespace: app\nentries: []\n"})
        Path("app/linked.yaml").symlink_to(tmp_path / "outside" / "elsewhere.yaml")
        assert fails_once({}) == (
            "app/linked.yaml: file lies outside the source root app (a symlink leads to "
            f"{tmp_path.resolve() / 'outside' / 'elsewhere.yaml'}; links must stay inside "
            "the root)"
        )

    def test_a_symlinked_orrery_yaml_leading_out_of_the_root_is_refused(
        self, tmp_path: Path
    ) -> None:
        write({"config.yaml": "node_name: stolen\n"}, "outside")
        write({"x.yaml": "namespace: app\nentries: []\n"})
        Path("app/orrery.yaml").symlink_to(tmp_path / "outside" / "config.yaml")
        assert fails_once({}) == (
            "app/orrery.yaml: file lies outside the source root app (a symlink leads to "
            f"{tmp_path.resolve() / 'outside' / 'config.yaml'}; links must stay inside "
            "the root)"
        )

    def test_a_symlinked_yaml_file_inside_the_root_loads(self) -> None:
        write({"real/defs.yaml": "namespace: app\nentries: [{name: h, kind: process.host}]\n"})
        Path("app/.hidden").mkdir()
        Path("app/real/defs.yaml").rename("app/.hidden/defs.yaml")
        Path("app/real/defs.yaml").symlink_to("../.hidden/defs.yaml")
        assert "app:h" in load({}).entries

    def test_paths_outside_the_working_directory_are_absolute(self, tmp_path: Path) -> None:
        write({"x.yaml": "namespace: app\nentries: [{name: p, kind: nope}]\n"}, "../outside")
        outside = (tmp_path / "../outside").resolve()
        with pytest.raises(RegistryError) as info:
            load_registry([outside])
        assert info.value.problems[0].file == str(outside / "x.yaml")


def alias_bomb(depth: int, indent: str = "") -> str:
    """A "billion laughs" block: ``l<depth>`` stands for 9**depth strings once expanded.

    The anchors start on the block's second line; ``l<k>`` is on line ``k + 2``.
    """
    lines = ["laughs:", '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, depth + 1):
        lines.append(f"  l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "".join(f"{indent}{line}\n" for line in lines)


#: The problem for :func:`alias_bomb`: nine aliases of l4 (9**4 + ... nodes each) add more
#: than 100000 nodes, on the line of l5.
BOMB_PROBLEM = (
    "YAML aliases repeat more than 100000 nodes in this document (limit reached at *l4); "
    "anchors and aliases are allowed, but not an expansion this large"
)


class TestUntrustedYaml:
    """Aliases are bounded before anything expands (docs/sandbox.md)."""

    def test_an_alias_bomb_in_a_definition_file_is_refused_at_its_line(self) -> None:
        """A billion-laughs bomb (about 1 KB, 9**9 strings) fails with one problem at once."""
        head = "namespace: app\nentries:\n  - name: p\n    kind: process.lua\n"
        files = tree("", base=False)
        files["x.yaml"] = (
            head + "    source: file://main.lua\n    meta:\n" + alias_bomb(9, "      ")
        )
        assert len(files["x.yaml"]) < 1100
        # meta starts on line 6; "laughs:" is line 7, l<k> is on line 8 + k.
        assert fails_once(files) == f"app/x.yaml:13: {BOMB_PROBLEM}"

    def test_an_alias_bomb_outside_meta_is_refused_too(self) -> None:
        files = tree("", base=False)
        files["x.yaml"] = "namespace: app\nentries: []\n" + alias_bomb(8)
        # "laughs:" is line 3, l<k> on line 4 + k; the key itself is also unknown.
        lines = fails(files)
        assert lines == [f"app/x.yaml:9: {BOMB_PROBLEM}"]

    def test_an_alias_bomb_in_orrery_yaml_is_refused(self) -> None:
        files = tree("", base=False)
        files["orrery.yaml"] = "node_name: n1\n" + alias_bomb(8)
        assert fails_once(files) == f"app/orrery.yaml:8: {BOMB_PROBLEM}"

    def test_an_alias_bomb_in_an_override_value_is_refused(self) -> None:
        files = tree("- {name: p, kind: process.lua, source: file://main.lua}")
        levels = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        levels += [f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 9)}]" for k in range(1, 9)]
        override = "app:p:meta={" + ", ".join(levels) + "}"
        assert fails_once(files, overrides=[override]) == (
            f'<registry>: entry "app:p": field "meta": override "{override}": '
            f"invalid YAML value: {BOMB_PROBLEM}"
        )

    def test_an_alias_inside_its_own_anchor_is_refused(self) -> None:
        files = tree("", base=False)
        files["x.yaml"] = "namespace: app\nentries: []\nloop: &a\n  - *a\n"
        assert fails_once(files) == (
            "app/x.yaml:4: alias *a refers to its own anchor "
            "(recursive YAML structures are not allowed)"
        )

    def test_aliases_that_repeat_a_little_still_load(self) -> None:
        """Ordinary reuse (the spec allows anchors and aliases) is far below the limit."""
        files = tree("- name: p\n  kind: process.lua\n  source: file://main.lua\n  meta:")
        files["x.yaml"] += alias_bomb(4, "    ")
        entry = load(files).require("app:p")
        assert len(entry.meta["laughs"]["l4"]) == 9


# --------------------------------------------------------------------------- entries


class TestEntryRules:
    def test_missing_name_and_kind(self) -> None:
        lines = fails(tree("- {kind: process.host}\n- {name: h}", base=False))
        assert lines == [
            'app/x.yaml:3: field "name": required field is missing',
            'app/x.yaml:4: entry "app:h": field "kind": required field is missing',
        ]

    @pytest.mark.parametrize("name", ["a:b", "has space", ".dot", "-dash", "{x}", "a|b", "a@b"])
    def test_bad_name(self, name: str) -> None:
        message = fails_once(tree(f'- {{name: "{name}", kind: process.host}}', base=False))
        assert message == (
            f'app/x.yaml:3: field "name": invalid name "{name}" (letters, digits, "_", "." and '
            '"-"; not starting with "." or "-")'
        )

    def test_names_may_contain_dots_and_dashes(self) -> None:
        registry = load(tree("- {name: get_user.end-point, kind: process.host}", base=False))
        assert "app:get_user.end-point" in registry.entries

    def test_name_must_be_a_string(self) -> None:
        assert fails_once(tree("- {name: 5, kind: process.host}", base=False)) == (
            'app/x.yaml:3: field "name": expected a string, got an integer (5)'
        )

    def test_duplicate_id_names_both_locations(self) -> None:
        files = tree("- {name: processes, kind: process.host}")
        assert fails_once(files) == at(
            3,
            "processes",
            "process.host",
            "name",
            "duplicate entry ID app:processes (first defined at app/_base.yaml:3)",
        )

    def test_unknown_kind_lists_supported_kinds(self) -> None:
        assert fails_once(tree("- {name: p, kind: process.lau}", base=False)) == at(
            3,
            "p",
            "process.lau",
            "kind",
            'unknown kind "process.lau" (did you mean "process.lua"?); supported kinds: '
            "function.lua, process.host, process.lua, process.service, process.supervisor, "
            "temporal.client, temporal.worker, workflow.lua",
        )

    @pytest.mark.parametrize(
        "kind",
        [
            "http.service",
            "http.endpoint",
            "db.sql.postgres",
            "process.wasm",
            "library.lua",
            "registry.entry",
            "function.lua.bc",
            "store.memory",
        ],
    )
    def test_known_but_unsupported_kinds(self, kind: str) -> None:
        assert fails_once(tree(f"- {{name: e, kind: {kind}, anything: goes}}", base=False)) == at(
            3, "e", kind, "kind", f'kind "{kind}" is not supported by orrery'
        )

    def test_kind_must_be_a_string(self) -> None:
        assert fails_once(tree("- {name: e, kind: [process.lua]}", base=False)) == (
            'app/x.yaml:3: entry "app:e": field "kind": expected a string, got a list'
        )


class TestFieldRules:
    def test_unknown_field_suggests_a_close_name(self) -> None:
        assert fails_once(
            tree("- {name: p, kind: process.lua, source: file://main.lua, modueles: [time]}")
        ) == at(3, "p", "process.lua", "modueles", 'unknown field (did you mean "modules"?)')

    def test_unknown_field_without_close_name_lists_known_fields(self) -> None:
        assert fails_once(tree("- {name: h, kind: process.host, colour: red}")) == at(
            3,
            "h",
            "process.host",
            "colour",
            "unknown field (known fields: host, kind, lifecycle, meta, name)",
        )

    def test_nested_unknown_field(self) -> None:
        assert fails_once(
            tree(
                """
                - name: h
                  kind: process.host
                  lifecycle:
                    restart:
                      max_attempt: 3
                """
            )
        ) == at(
            7,
            "h",
            "process.host",
            "lifecycle.restart.max_attempt",
            'unknown field (did you mean "max_attempts"?)',
        )

    @pytest.mark.parametrize(
        ("entry", "field"),
        [
            ("{name: e, kind: process.lua}", "source"),
            ("{name: e, kind: workflow.lua}", "source"),
            ("{name: e, kind: function.lua}", "source"),
            ("{name: e, kind: process.service, host: processes}", "process"),
            ("{name: e, kind: process.service, process: x}", "host"),
            ("{name: e, kind: temporal.worker, task_queue: q}", "client"),
            ("{name: e, kind: temporal.worker, client: temporal}", "task_queue"),
            (
                "{name: e, kind: function.lua, source: file://main.lua, "
                "meta: {temporal: {activity: {}}}}",
                "meta.temporal.activity.worker",
            ),
        ],
    )
    def test_required_field_is_missing(self, entry: str, field: str) -> None:
        lines = fails(tree(f"- {entry}"))
        kind = entry.split("kind: ")[1].split(",", maxsplit=1)[0].rstrip("}")
        assert at(3, "e", kind, field, "required field is missing") in lines

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            ("method: 5", "method", "expected a string, got an integer (5)"),
            ("modules: time", "modules", 'expected a list, got a string ("time")'),
            ("modules: [5]", "modules[0]", "expected a module name, got an integer (5)"),
            ("meta: [1]", "meta", "expected a mapping, got a list"),
            ("meta: {temporal: 1}", "meta.temporal", "expected a mapping, got an integer (1)"),
            (
                "source: 1.5",
                "source",
                'expected a string such as "file://main.lua", got a float (1.5)',
            ),
            ("method: null", "method", "expected a string, got null"),
            ("method: ''", "method", "must not be empty"),
            ("source: ''", "source", "must not be empty"),
        ],
    )
    def test_wrong_types_on_a_lua_entry(self, fields: str, field: str, message: str) -> None:
        defaults = {"source": "file://main.lua"}
        key = fields.split(":", maxsplit=1)[0]
        defaults.pop(key, None)
        extra = ", ".join(f"{k}: {v}" for k, v in defaults.items())
        entry = f"- {{name: p, kind: process.lua, {fields}{', ' + extra if extra else ''}}}"
        assert fails_once(tree(entry)) == at(3, "p", "process.lua", field, message)

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            (
                "lifecycle: {auto_start: 1}",
                "lifecycle.auto_start",
                "expected a boolean, got an integer (1)",
            ),
            ("lifecycle: true", "lifecycle", "expected a mapping, got a boolean (true)"),
            (
                "lifecycle: {requires: processes}",
                "lifecycle.requires",
                'expected a list, got a string ("processes")',
            ),
            (
                "host: {max_processes: 1.5}",
                "host.max_processes",
                "expected an integer, got a float (1.5)",
            ),
            (
                "lifecycle: {restart: {backoff_factor: '2'}}",
                "lifecycle.restart.backoff_factor",
                'expected a number, got a string ("2")',
            ),
        ],
    )
    def test_wrong_types_on_a_host(self, fields: str, field: str, message: str) -> None:
        assert fails_once(tree(f"- {{name: h, kind: process.host, {fields}}}")) == at(
            3, "h", "process.host", field, message
        )

    def test_empty_required_strings(self) -> None:
        lines = fails(
            tree(
                """
                - {name: w, kind: temporal.worker, client: temporal, task_queue: ""}
                - {name: c, kind: temporal.client, address: ""}
                """
            )
        )
        assert lines == [
            at(3, "w", "temporal.worker", "task_queue", "must not be empty"),
            at(4, "c", "temporal.client", "address", "must not be empty"),
        ]


class TestDurationsAndRanges:
    @pytest.mark.parametrize(
        ("restart", "field", "message"),
        [
            (
                "initial_delay: 5",
                "initial_delay",
                'invalid duration 5 (durations must be strings such as "5s")',
            ),
            (
                "initial_delay: 1.5",
                "initial_delay",
                'invalid duration 1.5 (durations must be strings such as "5s")',
            ),
            (
                "initial_delay: 5 seconds",
                "initial_delay",
                'invalid duration "5 seconds": unknown unit " seconds" (use ns, us, ms, s, m or h)',
            ),
            (
                "initial_delay: -1s",
                "initial_delay",
                'invalid duration "-1s": durations must not be negative',
            ),
            (
                "initial_delay: true",
                "initial_delay",
                'expected a duration string such as "5s", got a boolean (true)',
            ),
            ("backoff_factor: 0.5", "backoff_factor", "must be at least 1.0 (got 0.5)"),
            ("jitter: 1.5", "jitter", "must be between 0 and 1 (got 1.5)"),
            ("jitter: -0.1", "jitter", "must be between 0 and 1 (got -0.1)"),
            ("jitter: .nan", "jitter", "must be a finite number (got nan)"),
            ("max_attempts: -1", "max_attempts", "must be at least 0 (got -1)"),
            (
                "{initial_delay: 2s, max_delay: 1s}",
                "max_delay",
                "max_delay (1s) must be at least initial_delay (2s)",
            ),
            (
                "initial_delay: 2m",
                "initial_delay",
                "max_delay (1m30s, the default) must be at least initial_delay (2m0s)",
            ),
        ],
    )
    def test_restart_rules(self, restart: str, field: str, message: str) -> None:
        if not restart.startswith("{"):
            restart = "{" + restart + "}"
        files = tree(f"- {{name: h, kind: process.host, lifecycle: {{restart: {restart}}}}}")
        assert fails_once(files) == at(
            3, "h", "process.host", f"lifecycle.restart.{field}", message
        )

    def test_max_delay_problem_points_at_its_line(self) -> None:
        files = tree(
            """
            - name: h
              kind: process.host
              lifecycle:
                restart:
                  initial_delay: 10s
                  max_delay: 5s
            """
        )
        assert fails_once(files) == at(
            8,
            "h",
            "process.host",
            "lifecycle.restart.max_delay",
            "max_delay (5s) must be at least initial_delay (10s)",
        )

    @pytest.mark.parametrize("field", ["start_timeout", "stop_timeout"])
    def test_timeouts_must_be_positive(self, field: str) -> None:
        files = tree(f"- {{name: h, kind: process.host, lifecycle: {{{field}: 0s}}}}")
        assert fails_once(files) == at(
            3, "h", "process.host", f"lifecycle.{field}", 'must be greater than 0 (got "0s")'
        )

    def test_zero_stable_threshold_and_delays_are_allowed(self) -> None:
        registry = load(
            tree(
                "- {name: h, kind: process.host, lifecycle: {stable_threshold: 0s, "
                "restart: {initial_delay: 0s, max_delay: 0s, jitter: 1, backoff_factor: 1}}}"
            )
        )
        host = registry.require("app:h")
        assert isinstance(host, HostEntry)
        assert host.lifecycle.restart == RestartSpec(0.0, 0.0, 1.0, 1.0, 0)

    @pytest.mark.parametrize("field", ["workers", "queue_size", "local_queue_size"])
    def test_host_sizes_must_be_at_least_one(self, field: str) -> None:
        assert fails_once(tree(f"- {{name: h, kind: process.host, host: {{{field}: 0}}}}")) == at(
            3, "h", "process.host", f"host.{field}", "must be at least 1 (got 0)"
        )

    def test_max_processes_must_not_be_negative(self) -> None:
        files = tree("- {name: h, kind: process.host, host: {max_processes: -1}}")
        assert fails_once(files) == at(
            3, "h", "process.host", "host.max_processes", "must be at least 0 (got -1)"
        )

    def test_dev_server_port_range(self) -> None:
        files = tree("- {name: c, kind: temporal.client, dev_server: {port: 70000}}")
        assert fails_once(files) == at(
            3, "c", "temporal.client", "dev_server.port", "must be between 0 and 65535 (got 70000)"
        )


class TestReferences:
    def test_unknown_reference_suggests_a_close_id(self) -> None:
        files = tree(
            """
            - name: flow
              kind: workflow.lua
              source: file://main.lua
              meta: {temporal: {workflow: {worker: wroker}}}
            """
        )
        assert fails_once(files) == at(
            6,
            "flow",
            "workflow.lua",
            "meta.temporal.workflow.worker",
            '"app:wroker" does not exist (did you mean "app:worker"?)',
        )

    def test_bare_names_do_not_reach_other_namespaces(self) -> None:
        files = {
            "_base.yaml": BASE,
            "x.yaml": "namespace: other\nentries:\n"
            "  - {name: w, kind: temporal.worker, client: temporal, task_queue: q}\n",
        }
        assert fails_once(files) == (
            'app/x.yaml:3: entry "other:w" (temporal.worker): field "client": '
            '"other:temporal" does not exist (did you mean "app:temporal"?)'
        )

    def test_reference_to_the_wrong_kind(self) -> None:
        files = tree("- {name: s, kind: process.service, process: worker, host: processes}")
        assert fails_once(files) == at(
            3,
            "s",
            "process.service",
            "process",
            '"app:worker" is a temporal.worker, expected process.lua',
        )

    def test_service_host_must_not_be_a_temporal_worker(self) -> None:
        files = tree(
            """
            - {name: p, kind: process.lua, source: file://main.lua}
            - {name: s, kind: process.service, process: p, host: worker}
            """
        )
        assert fails_once(files) == at(
            4,
            "s",
            "process.service",
            "host",
            '"app:worker" is a temporal.worker; a process.service runs only on a process.host '
            "(workflows are supervised by Temporal, not by orrery services)",
        )

    def test_requires_must_point_at_a_service(self) -> None:
        files = tree(
            """
            - {name: p, kind: process.lua, source: file://main.lua}
            - name: h
              kind: process.host
              lifecycle:
                requires: [processes, p]
            """
        )
        assert fails_once(files) == at(
            7,
            "h",
            "process.host",
            "lifecycle.requires[1]",
            '"app:p" is a process.lua, which has no lifecycle; depend on the process.service '
            "that runs it",
        )

    def test_reference_to_an_unsupported_kind_names_it(self) -> None:
        files = tree(
            """
            - {name: lib, kind: library.lua, source: file://main.lua}
            - {name: h, kind: process.host, lifecycle: {depends_on: [lib]}}
            """
        )
        assert fails(files) == [
            at(3, "lib", "library.lua", "kind", 'kind "library.lua" is not supported by orrery'),
            at(
                4,
                "h",
                "process.host",
                "lifecycle.depends_on[0]",
                '"app:lib" is a library.lua, expected process.host, process.service, '
                "process.supervisor, temporal.client or temporal.worker",
            ),
        ]

    @pytest.mark.parametrize("ref", ["a:b:c", "bad ns:x", ":x", "x:"])
    def test_malformed_reference(self, ref: str) -> None:
        files = tree(f'- {{name: w, kind: temporal.worker, client: "{ref}", task_queue: q}}')
        assert fails_once(files) == at(
            3,
            "w",
            "temporal.worker",
            "client",
            f'invalid reference "{ref}" (expected "name" or "namespace:name")',
        )


class TestLuaRules:
    def test_missing_file(self) -> None:
        files = tree("- {name: p, kind: process.lua, source: file://lib/nope.lua}")
        assert fails_once(files) == at(
            3, "p", "process.lua", "source", "Lua file app/lib/nope.lua does not exist"
        )

    def test_file_outside_the_root(self) -> None:
        write({"escape.lua": LUA}, ".")
        files = tree("- {name: p, kind: process.lua, source: file://../escape.lua}")
        assert fails_once(files) == at(
            3, "p", "process.lua", "source", '"../escape.lua" is outside the source root app'
        )

    def test_a_symlink_to_a_lua_file_outside_the_root_is_refused(self, tmp_path: Path) -> None:
        """A link inside the app that leads out of it is not read (docs/sandbox.md)."""
        write({"secret.lua": "return {main = function() return 'secret' end}\n"}, ".")
        files = tree("- {name: p, kind: process.lua, source: file://lib/link.lua}")
        write(files)
        Path("app/lib").mkdir()
        Path("app/lib/link.lua").symlink_to(tmp_path / "secret.lua")
        with pytest.raises(RegistryError) as info:
            load_registry(["app"])
        assert [p.render() for p in info.value.problems] == [
            at(
                3,
                "p",
                "process.lua",
                "source",
                f'"lib/link.lua" lies outside the source root app (a symlink leads to '
                f"{tmp_path.resolve() / 'secret.lua'}; links must stay inside the root)",
            )
        ]

    def test_a_symlinked_directory_leading_out_is_refused(self, tmp_path: Path) -> None:
        write({"outside/p.lua": LUA}, ".")
        write(tree("- {name: p, kind: process.lua, source: file://code/p.lua}"))
        Path("app/code").symlink_to(tmp_path / "outside")
        assert fails_once({}) == at(
            3,
            "p",
            "process.lua",
            "source",
            f'"code/p.lua" lies outside the source root app (a symlink leads to '
            f"{tmp_path.resolve() / 'outside' / 'p.lua'}; links must stay inside the root)",
        )

    def test_a_symlink_that_stays_inside_the_root_works(self) -> None:
        files = tree("- {name: p, kind: process.lua, source: file://link.lua}")
        write(files)
        Path("app/link.lua").symlink_to("main.lua")
        entry = load({}).require("app:p")
        assert isinstance(entry, LuaEntry)
        assert entry.source.text == LUA

    def test_a_symlink_loop_is_a_problem_not_a_crash(self) -> None:
        write(tree("- {name: p, kind: process.lua, source: file://loop.lua}"))
        Path("app/loop.lua").symlink_to("loop.lua")
        (line,) = fails({})
        assert line.startswith(at(3, "p", "process.lua", "source", '"loop.lua" '))

    def test_dot_dot_inside_the_root_is_fine(self) -> None:
        files = tree("- {name: p, kind: process.lua, source: file://sub/../main.lua}")
        entry = load(files).require("app:p")
        assert isinstance(entry, LuaEntry)
        assert entry.source.display == "app/main.lua"

    def test_source_relative_to_the_yaml_file(self) -> None:
        files = {
            "deep/er/x.yaml": "namespace: d\nentries:\n"
            "  - {name: p, kind: process.lua, source: file://code/p.lua}\n",
            "deep/er/code/p.lua": LUA,
        }
        entry = load(files).require("d:p")
        assert isinstance(entry, LuaEntry)
        assert entry.source.display == "app/deep/er/code/p.lua"

    def test_not_utf8(self) -> None:
        files: dict[str, str | bytes] = {
            **tree("- {name: p, kind: process.lua, source: file://bad.lua}")
        }
        files["bad.lua"] = b"return 1 -- \xe9\n"
        assert fails_once(files) == at(
            3,
            "p",
            "process.lua",
            "source",
            "Lua file app/bad.lua is not valid UTF-8 (byte 0xe9 at offset 12)",
        )

    def test_directory_instead_of_file(self) -> None:
        files = tree("- {name: p, kind: process.lua, source: file://dir}")
        Path("app/dir").mkdir(parents=True)
        assert fails_once(files) == at(
            3, "p", "process.lua", "source", "app/dir is a directory, not a Lua file"
        )

    def test_inline_source_is_not_supported(self) -> None:
        files = tree("- {name: p, kind: process.lua, source: 'return {}'}")
        assert fails_once(files) == at(
            3,
            "p",
            "process.lua",
            "source",
            'inline Lua source is not supported by this orrery build (write "file://<path>")',
        )

    def test_file_scheme_needs_a_path(self) -> None:
        files = tree("- {name: p, kind: process.lua, source: 'file://'}")
        assert fails_once(files) == at(
            3, "p", "process.lua", "source", '"file://" must be followed by a path'
        )

    @pytest.mark.parametrize(
        ("kind", "module", "message"),
        [
            ("process.lua", "tim", 'unknown module "tim" (did you mean "time"?)'),
            ("process.lua", "http", 'unknown module "http"'),
            (
                "workflow.lua",
                "env",
                'module "env" is not allowed in workflow.lua entries (workflow code must stay '
                "deterministic)",
            ),
            (
                "workflow.lua",
                "registry",
                'module "registry" is not allowed in workflow.lua entries (workflow code must stay '
                "deterministic)",
            ),
            ("function.lua", "env", 'module "env" is not supported by this orrery build'),
            ("process.lua", "base64", 'module "base64" is not supported by this orrery build'),
            ("workflow.lua", "yaml", 'module "yaml" is not supported by this orrery build'),
        ],
    )
    def test_module_rules(self, kind: str, module: str, message: str) -> None:
        files = tree(
            f"- {{name: e, kind: {kind}, source: file://main.lua, modules: [time, {module}]}}"
        )
        assert fails_once(files) == at(3, "e", kind, "modules[1]", message)

    @pytest.mark.parametrize(
        "module", ["funcs", "time", "uuid", "crypto", "ctx", "json", "workflow", "logger"]
    )
    def test_implemented_modules_are_allowed_in_workflows(self, module: str) -> None:
        files = tree(
            f"- {{name: e, kind: workflow.lua, source: file://main.lua, modules: [{module}]}}"
        )
        assert load(files).require("app:e").modules == (module,)  # type: ignore[attr-defined]

    def test_lifecycle_on_a_process_points_to_process_service(self) -> None:
        files = tree(
            "- {name: p, kind: process.lua, source: file://main.lua, lifecycle: {auto_start: true}}"
        )
        assert fails_once(files) == at(
            3,
            "p",
            "process.lua",
            "lifecycle",
            "process.lua entries have no lifecycle (they run only when spawned); use a "
            "process.service entry to keep this process running",
        )

    @pytest.mark.parametrize("kind", ["workflow.lua", "function.lua"])
    def test_lifecycle_on_other_lua_kinds(self, kind: str) -> None:
        files = tree(f"- {{name: e, kind: {kind}, source: file://main.lua, lifecycle: {{}}}}")
        assert fails_once(files) == at(
            3,
            "e",
            kind,
            "lifecycle",
            f"{kind} entries have no lifecycle (they run only when spawned or called)",
        )

    def test_lua_checker_sees_valid_lua_entries_only(self) -> None:
        seen: list[str] = []

        def checker(entry: LuaEntry) -> list[Problem]:
            seen.append(entry.id)
            if entry.name == "broken":
                return [
                    Problem(
                        entry.source.display,
                        2,
                        entry.id,
                        entry.kind,
                        "source",
                        "Lua syntax error: boom",
                    )
                ]
            return []

        files = tree(
            """
            - {name: good, kind: process.lua, source: file://main.lua}
            - {name: broken, kind: function.lua, source: file://main.lua}
            - {name: invalid, kind: process.lua, source: file://main.lua, method: 1}
            - {name: missing, kind: process.lua, source: file://none.lua}
            - {name: h, kind: process.host}
            """
        )
        lines = fails(files, lua_checker=checker)
        assert seen == ["app:good", "app:broken"]
        assert lines[-1] == (
            'app/main.lua:2: entry "app:broken" (function.lua): field "source": '
            "Lua syntax error: boom"
        )
        assert len(lines) == 3

    def test_lua_checker_problems_alone_fail_the_load(self) -> None:
        def checker(entry: LuaEntry) -> list[Problem]:
            return [Problem(entry.file, entry.line, entry.id, entry.kind, "method", "no method")]

        files = tree("- {name: p, kind: process.lua, source: file://main.lua}")
        assert fails_once(files, lua_checker=checker) == at(
            3, "p", "process.lua", "method", "no method"
        )


class TestServiceRules:
    def test_input_mapping_keys_must_be_strings_or_integers(self) -> None:
        files = tree(
            """
            - {name: p, kind: process.lua, source: file://main.lua}
            - name: s
              kind: process.service
              process: p
              host: processes
              input:
                - {1: ok, name: ok}
                - [{nested: {true: bad}}]
            """
        )
        assert fails_once(files) == at(
            10,
            "s",
            "process.service",
            "input[1]",
            "mapping key a boolean (true) is not a string or an integer",
        )

    def test_input_timestamp_is_rejected(self) -> None:
        files = tree(
            """
            - {name: p, kind: process.lua, source: file://main.lua}
            - {name: s, kind: process.service, process: p, host: processes, input: [2024-01-01]}
            """
        )
        assert fails_once(files) == at(
            4,
            "s",
            "process.service",
            "input[0]",
            "a timestamp (2024-01-01) cannot be passed to a process (only null, booleans, "
            "numbers, strings, lists and mappings can)",
        )

    def test_input_must_be_a_list(self) -> None:
        files = tree(
            """
            - {name: p, kind: process.lua, source: file://main.lua}
            - {name: s, kind: process.service, process: p, host: processes, input: {a: 1}}
            """
        )
        assert fails_once(files) == at(
            4, "s", "process.service", "input", "expected a list, got a mapping"
        )


class TestCycles:
    def test_two_services_requiring_each_other(self) -> None:
        files = tree(
            """
            - {name: a, kind: process.host, lifecycle: {requires: [b]}}
            - {name: b, kind: process.host, lifecycle: {requires: [a]}}
            """
        )
        assert fails_once(files) == at(
            3,
            "a",
            "process.host",
            "lifecycle.requires[0]",
            "dependency cycle: app:a -> app:b -> app:a",
        )

    def test_self_dependency(self) -> None:
        files = tree("- {name: a, kind: process.host, lifecycle: {depends_on: [a]}}")
        assert fails_once(files) == at(
            3,
            "a",
            "process.host",
            "lifecycle.depends_on[0]",
            "dependency cycle: app:a -> app:a",
        )

    def test_cycle_through_implicit_edges(self) -> None:
        files = tree(
            """
            - {name: p, kind: process.lua, source: file://main.lua}
            - {name: h, kind: process.host, lifecycle: {requires: [c]}}
            - {name: s, kind: process.service, process: p, host: h}
            - {name: c, kind: temporal.client, address: x:1, lifecycle: {requires: [w]}}
            - {name: w, kind: temporal.worker, client: c, task_queue: q,
               lifecycle: {requires: [s]}}
            """
        )
        assert fails_once(files) == at(
            4,
            "h",
            "process.host",
            "lifecycle.requires[0]",
            "dependency cycle: app:h -> app:c -> app:w -> app:s -> app:h",
        )

    def test_each_cycle_is_reported_once(self) -> None:
        files = tree(
            """
            - {name: a, kind: process.host, lifecycle: {requires: [b]}}
            - {name: b, kind: process.host, lifecycle: {requires: [a, c]}}
            - {name: c, kind: process.host, lifecycle: {requires: [b]}}
            - {name: d, kind: process.host, lifecycle: {requires: [d, a]}}
            """
        )
        lines = fails(files)
        assert lines == [
            at(
                3,
                "a",
                "process.host",
                "lifecycle.requires[0]",
                "dependency cycle: app:a -> app:b -> app:a",
            ),
            at(6, "d", "process.host", "lifecycle.requires[0]", "dependency cycle: app:d -> app:d"),
        ]

    def test_diamond_is_not_a_cycle(self) -> None:
        files = tree(
            """
            - {name: a, kind: process.host, lifecycle: {requires: [b, c]}}
            - {name: b, kind: process.host, lifecycle: {requires: [d]}}
            - {name: c, kind: process.host, lifecycle: {requires: [d]}}
            - {name: d, kind: process.host}
            """
        )
        assert load(files).dependencies("app:a") == ("app:b", "app:c")


class TestTemporalRules:
    def test_client_without_address_uses_the_embedded_dev_server(self) -> None:
        """A client that names no address starts the embedded dev server (the default)."""
        entry = load(tree("- {name: c, kind: temporal.client}")).client("app:c")
        assert entry.address is None
        assert entry.dev_server is not None and entry.dev_server.enabled

    def test_client_with_disabled_dev_server_and_no_address(self) -> None:
        files = tree("- {name: c, kind: temporal.client, dev_server: {enabled: false}}")
        assert fails_once(files) == at(
            3,
            "c",
            "temporal.client",
            "address",
            "required field is missing (dev_server is disabled; set address or enable dev_server)",
        )

    def test_address_with_enabled_dev_server(self) -> None:
        files = tree(
            "- {name: c, kind: temporal.client, address: x:1, dev_server: {enabled: true}}"
        )
        assert fails_once(files) == at(
            3,
            "c",
            "temporal.client",
            "address",
            "must not be set when dev_server is enabled (use either a server address or the "
            "embedded dev server)",
        )

    def test_two_workflow_types_with_one_name(self) -> None:
        """Every worker registers every entry, so type names are unique in the registry."""
        files = tree(
            """
            - name: a
              kind: workflow.lua
              source: file://main.lua
              meta: {temporal: {workflow: {worker: worker, name: Flow}}}
            - name: b
              kind: workflow.lua
              source: file://main.lua
              meta: {temporal: {workflow: {worker: app:worker, name: Flow}}}
            - name: c
              kind: workflow.lua
              source: file://main.lua
              meta: {temporal: {workflow: {worker: worker, name: "app:d"}}}
            - name: d
              kind: workflow.lua
              source: file://main.lua
              meta: {temporal: {workflow: {worker: worker}}}
            - name: e
              kind: workflow.lua
              source: file://main.lua
              meta: {temporal: {workflow: {name: Flow}}}
            - name: f
              kind: workflow.lua
              source: file://main.lua
              meta: {temporal: {workflow: {name: "app:g"}}}
            - {name: g, kind: process.lua, source: file://main.lua}
            """
        )
        unique = "every worker runs every workflow.lua and process.lua entry, so type names "
        unique += "must be unique in the registry"
        assert fails(files) == [
            at(
                7,
                "b",
                "workflow.lua",
                "meta.temporal.workflow.name",
                f'workflow type "Flow" is already used by app:a (app/x.yaml:3); {unique}',
            ),
            at(
                11,
                "c",
                "workflow.lua",
                "meta.temporal.workflow.name",
                f'workflow type "app:d" is already used by app:d (app/x.yaml:15); {unique}',
            ),
            at(
                19,
                "e",
                "workflow.lua",
                "meta.temporal.workflow.name",
                f'workflow type "Flow" is already used by app:a (app/x.yaml:3); {unique}',
            ),
            at(
                23,
                "f",
                "workflow.lua",
                "meta.temporal.workflow.name",
                f'workflow type "app:g" is already used by app:g (app/x.yaml:27); {unique}',
            ),
        ]

    def test_one_workflow_name_on_two_workers_is_a_clash_too(self) -> None:
        """Both workers would register both entries: one of them could never run."""
        files = tree(
            """
            - {name: w2, kind: temporal.worker, client: temporal, task_queue: other}
            - {name: a, kind: workflow.lua, source: file://main.lua,
               meta: {temporal: {workflow: {worker: worker, name: Flow}}}}
            - {name: b, kind: workflow.lua, source: file://main.lua,
               meta: {temporal: {workflow: {worker: w2, name: Flow}}}}
            """
        )
        assert fails_once(files).startswith(
            'app/x.yaml:6: entry "app:b" (workflow.lua): field "meta.temporal.workflow.name": '
            'workflow type "Flow" is already used by app:a (app/x.yaml:4);'
        )

    def test_distinct_names_and_a_name_equal_to_its_own_id_are_fine(self) -> None:
        files = tree(
            """
            - {name: a, kind: workflow.lua, source: file://main.lua,
               meta: {temporal: {workflow: {worker: worker, name: Flow}}}}
            - {name: b, kind: workflow.lua, source: file://main.lua,
               meta: {temporal: {workflow: {worker: worker, name: "app:b"}}}}
            - {name: c, kind: process.lua, source: file://main.lua}
            """
        )
        assert len(load(files).of_kind("workflow.lua")) == 2

    def test_two_workers_of_one_client_on_one_task_queue(self) -> None:
        """They would take each other's workflow tasks (and run them under the wrong PID)."""
        files = tree(
            """
            - {name: w2, kind: temporal.worker, client: temporal, task_queue: main}
            """
        )
        assert fails_once(files) == at(
            3,
            "w2",
            "temporal.worker",
            "task_queue",
            'task queue "main" of app:temporal is already polled by app:worker '
            "(app/_base.yaml:8); two workers of one client on one queue would take each "
            "other's workflows",
        )

    def test_one_task_queue_name_on_two_clients_or_with_an_activity_worker_is_fine(
        self,
    ) -> None:
        files = tree(
            """
            - {name: t2, kind: temporal.client, address: "localhost:7234"}
            - {name: w2, kind: temporal.worker, client: t2, task_queue: main}
            - {name: acts, kind: temporal.worker, client: temporal, task_queue: main,
               worker_options: {disable_workflow_worker: true}}
            """
        )
        assert len(load(files).of_kind("temporal.worker")) == 3

    @pytest.mark.parametrize(
        ("options", "field", "message"),
        [
            (
                "max_concurrent_workflow_task_pollers: 1",
                "max_concurrent_workflow_task_pollers",
                "must not be 1 (use 2 or more workflow task pollers)",
            ),
            (
                "max_concurrent_workflow_task_pollers: 0",
                "max_concurrent_workflow_task_pollers",
                "must be at least 1 (got 0)",
            ),
            (
                "worker_activities_per_second: -1",
                "worker_activities_per_second",
                "must be at least 0 (got -1)",
            ),
            (
                "task_queue_activities_per_second: -0.5",
                "task_queue_activities_per_second",
                "must be at least 0 (got -0.5)",
            ),
            (
                "worker_local_activities_per_second: -2",
                "worker_local_activities_per_second",
                "must be at least 0 (got -2)",
            ),
            (
                "{disable_workflow_worker: true, local_activity_worker_only: true}",
                "local_activity_worker_only",
                "cannot be combined with disable_workflow_worker (the worker would run nothing)",
            ),
            (
                "enable_session_worker: true",
                "enable_session_worker",
                "true is not supported: the Python SDK has no session worker",
            ),
            (
                "max_concurrent_activity_execution_size: 0",
                "max_concurrent_activity_execution_size",
                "must be at least 1 (got 0)",
            ),
            (
                "worker_stop_timeout: 10",
                "worker_stop_timeout",
                'invalid duration 10 (durations must be strings such as "5s")',
            ),
            ("identiy: me", "identiy", 'unknown field (did you mean "identity"?)'),
            (
                "default_versioning_behavior: pin",
                "default_versioning_behavior",
                'invalid value "pin"; expected one of "", "pinned", "auto_upgrade"',
            ),
        ],
    )
    def test_worker_options(self, options: str, field: str, message: str) -> None:
        if not options.startswith("{"):
            options = "{" + options + "}"
        files = tree(
            f"- {{name: w, kind: temporal.worker, client: temporal, task_queue: q, "
            f"worker_options: {options}}}"
        )
        assert fails_once(files) == at(
            3, "w", "temporal.worker", f"worker_options.{field}", message
        )

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            (
                "auth: {type: api_key}",
                "auth",
                'auth.type "api_key" needs exactly one API key source (api_key, api_key_env, '
                "api_key_file; none given)",
            ),
            (
                "auth: {type: api_key, api_key: k, api_key_env: K}",
                "auth",
                'auth.type "api_key" needs exactly one API key source (api_key, api_key_env, '
                "api_key_file; 2 given: api_key, api_key_env)",
            ),
            (
                "auth: {type: mtls, cert_pem: c}",
                "auth",
                'auth.type "mtls" needs exactly one key source (key_file, key_pem, key_pem_env; '
                "none given)",
            ),
            (
                "auth: {type: api_key, api_key: k, cert_file: c.pem}",
                "auth.cert_file",
                'must not be set when auth.type is "api_key"',
            ),
            (
                "auth: {api_key_env: KEY}",
                "auth.api_key_env",
                'must not be set when auth.type is "none"',
            ),
            (
                "auth: {type: kerberos}",
                "auth.type",
                'invalid value "kerberos"; expected one of "none", "api_key", "mtls"',
            ),
            (
                "tls: {insecure_skip_verify: true}",
                "tls.insecure_skip_verify",
                "true is not supported: the Python SDK always verifies the server certificate",
            ),
            ("tls: {ca_file: ''}", "tls.ca_file", "must not be empty"),
            ("tq_prefix: dev-", "tq_prefix", "tq_prefix is not supported by this orrery build"),
            ("keep_alive_time: 0s", "keep_alive_time", 'must be greater than 0 (got "0s")'),
            (
                "health_check: {enabled: true}",
                "health_check.enabled",
                "health checks is not supported by this orrery build",
            ),
            ("connection_timeout: 0s", "connection_timeout", 'must be greater than 0 (got "0s")'),
            ("namespace: ''", "namespace", "must not be empty"),
        ],
    )
    def test_client_extended_fields(self, fields: str, field: str, message: str) -> None:
        files = tree(f"- {{name: c, kind: temporal.client, address: x:1, {fields}}}")
        assert fails_once(files) == at(3, "c", "temporal.client", field, message)

    @pytest.mark.parametrize(
        ("kind", "meta", "field", "message"),
        [
            (
                "function.lua",
                "{workflow: {worker: worker}}",
                "meta.temporal.workflow",
                "meta.temporal.workflow is only allowed on workflow.lua entries",
            ),
            (
                "workflow.lua",
                "{activity: {worker: worker}}",
                "meta.temporal.activity",
                "meta.temporal.activity is only allowed on function.lua entries",
            ),
            (
                "process.lua",
                "{activity: {worker: worker}}",
                "meta.temporal.activity",
                "process activities (meta.temporal.activity on a process.lua entry) is not "
                "supported by this orrery build",
            ),
            (
                "function.lua",
                "{activity: {worker: worker, local: true}}",
                "meta.temporal.activity.local",
                "local activities is not supported by this orrery build",
            ),
            (
                "function.lua",
                "{activity: {worker: processes}}",
                "meta.temporal.activity.worker",
                '"app:processes" is a process.host, expected temporal.worker',
            ),
            (
                "workflow.lua",
                "{workflow: {worker: worker, name: ''}}",
                "meta.temporal.workflow.name",
                "must not be empty",
            ),
            (
                "workflow.lua",
                "{workflow: {wroker: worker}}",
                "meta.temporal.workflow.wroker",
                'unknown field (did you mean "worker"?)',
            ),
            (
                "workflow.lua",
                "{workflows: {}}",
                "meta.temporal.workflows",
                'unknown field (did you mean "workflow"?)',
            ),
        ],
    )
    def test_meta_temporal(self, kind: str, meta: str, field: str, message: str) -> None:
        files = tree(
            f"- {{name: e, kind: {kind}, source: file://main.lua, meta: {{temporal: {meta}}}}}"
        )
        assert fails_once(files) == at(3, "e", kind, field, message)


class TestExtendedFeatures:
    def test_imports(self) -> None:
        files = tree(
            "- {name: p, kind: process.lua, source: file://main.lua, imports: {util: app:util}}"
        )
        assert fails_once(files) == at(
            3, "p", "process.lua", "imports", "imports is not supported by this orrery build"
        )

    def test_startup_optional(self) -> None:
        files = tree("- {name: h, kind: process.host, lifecycle: {startup: optional}}")
        assert fails_once(files) == at(
            3,
            "h",
            "process.host",
            "lifecycle.startup",
            'startup mode "optional" is not supported by this orrery build',
        )

    def test_env_placeholders(self) -> None:
        files = tree(
            """
            - name: c
              kind: temporal.client
              address: "${env:TEMPORAL_ADDRESS}"
              meta: {note: "${env:IGNORED_IN_META}"}
            """
        )
        assert fails_once(files) == at(
            5,
            "c",
            "temporal.client",
            "address",
            "${env:NAME} placeholders are not supported by this orrery build",
        )


class TestOverrides:
    def test_override_changes_a_field_before_validation(self) -> None:
        files = tree(
            """
            - {name: p, kind: process.lua, source: file://main.lua}
            - {name: s, kind: process.service, process: p, host: processes}
            """
        )
        registry = load(
            files,
            overrides=[
                "app:s:lifecycle.auto_start=true",
                "app:s:lifecycle.restart.max_attempts=3",
                "app:s:input=[1, {a: b}]",
                "app:worker:task_queue=other",
                "app:temporal:address=temporal.example:7233",
            ],
        )
        service = registry.require("app:s")
        assert isinstance(service, ServiceEntry)
        assert service.lifecycle.auto_start is True
        assert service.lifecycle.restart.max_attempts == 3
        assert service.input == (1, {"a": "b"})
        assert registry.require("app:worker").task_queue == "other"  # type: ignore[attr-defined]
        assert registry.require("app:temporal").address == "temporal.example:7233"  # type: ignore[attr-defined]

    def test_overridden_values_are_validated(self) -> None:
        files = tree(
            """
            - {name: p, kind: process.lua, source: file://main.lua}
            - {name: s, kind: process.service, process: p, host: processes}
            """
        )
        lines = fails(
            files,
            overrides=["app:s:host=app:worker", "app:s:lifecycle.stop_timeout=5"],
        )
        assert lines == [
            at(
                4,
                "s",
                "process.service",
                "lifecycle.stop_timeout",
                'invalid duration 5 (durations must be strings such as "5s")',
            ),
            at(
                4,
                "s",
                "process.service",
                "host",
                '"app:worker" is a temporal.worker; a process.service runs only on a '
                "process.host (workflows are supervised by Temporal, not by orrery services)",
            ),
        ]

    def test_override_of_a_shared_alias_changes_one_entry(self) -> None:
        files = tree(
            """
            - {name: w2, kind: temporal.worker, client: temporal, task_queue: two}
            - name: a
              kind: function.lua
              source: file://main.lua
              meta: &act {temporal: {activity: {worker: app:worker}}}
            - {name: b, kind: function.lua, source: file://main.lua, meta: *act}
            """
        )
        registry = load(files, overrides=["app:a:meta.temporal.activity.worker=w2"])
        assert registry.require("app:a").activity_worker == "app:w2"  # type: ignore[attr-defined]
        assert registry.require("app:b").activity_worker == "app:worker"  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("override", "message"),
        [
            (
                "app:nope:x=1",
                '<registry>: entry "app:nope": field "x": override '
                '"app:nope:x=1": entry app:nope does not exist',
            ),
            (
                "app:procesess:x=1",
                '<registry>: entry "app:procesess": field "x": override '
                '"app:procesess:x=1": entry app:procesess does not exist (did you mean '
                '"app:processes"?)',
            ),
            (
                "app:processes",
                '<registry>: invalid override "app:processes" (expected NS:ENTRY:FIELD=VALUE)',
            ),
            (
                "processes:host=1",
                '<registry>: invalid override "processes:host=1" (expected NS:ENTRY:FIELD=VALUE)',
            ),
            (
                "app:processes:host..x=1",
                '<registry>: invalid override "app:processes:host..x=1" '
                "(expected NS:ENTRY:FIELD=VALUE)",
            ),
            (
                "app:processes:name=other",
                '<registry>: entry "app:processes": field "name": '
                'override "app:processes:name=other": the entry name cannot be overridden',
            ),
            (
                "app:worker:task_queue.x=1",
                '<registry>: entry "app:worker": field '
                '"task_queue.x": override "app:worker:task_queue.x=1": "task_queue" is a string '
                '("main"), not a mapping',
            ),
        ],
    )
    def test_bad_overrides(self, override: str, message: str) -> None:
        assert fails_once(tree(""), overrides=[override]) == message

    def test_override_value_must_be_yaml(self) -> None:
        line = fails_once(tree(""), overrides=["app:processes:meta=[unclosed"])
        assert line.startswith(
            '<registry>: entry "app:processes": field "meta": override '
            '"app:processes:meta=[unclosed": invalid YAML value:'
        )


class TestAllProblemsAtOnce:
    def test_every_problem_of_every_file_is_reported_in_file_and_line_order(self) -> None:
        files = {
            "_base.yaml": BASE,
            "b.yaml": """
            namespace: app
            entries:
              - name: queue_worker
                kind: temporal.worker
                client: temporal
              - name: flow
                kind: workflow.lua
                source: file://main.lua
                meta: {temporal: {workflow: {worker: wroker}}}
            """,
            "a.yaml": """
            namespace: app
            entries:
              - {name: p, kind: process.lua, source: file://main.lua}
              - name: keeper
                kind: process.service
                process: p
                host: processes
                lifecycle:
                  restart:
                    initial_delay: 5
            """,
            "main.lua": LUA,
        }
        write(files)
        with pytest.raises(RegistryError) as info:
            load_registry(["app"])
        assert str(info.value) == "\n".join(
            [
                "registry has 3 problems:",
                '  app/a.yaml:10: entry "app:keeper" (process.service): field '
                '"lifecycle.restart.initial_delay": invalid duration 5 (durations must be '
                'strings such as "5s")',
                '  app/b.yaml:3: entry "app:queue_worker" (temporal.worker): field "task_queue": '
                "required field is missing",
                '  app/b.yaml:9: entry "app:flow" (workflow.lua): field '
                '"meta.temporal.workflow.worker": "app:wroker" does not exist (did you mean '
                '"app:worker"?)',
            ]
        )
        problem = info.value.problems[1]
        assert (problem.file, problem.line, problem.entry, problem.kind, problem.field) == (
            "app/b.yaml",
            3,
            "app:queue_worker",
            "temporal.worker",
            "task_queue",
        )

    def test_many_problems_in_one_entry(self) -> None:
        files = tree(
            """
            - name: h
              kind: process.host
              colour: red
              host: {workers: 0}
              lifecycle:
                auto_start: maybe
                stop_timeout: 0s
                restart: {jitter: 2, backoff_factor: 0}
            """
        )
        assert len(fails(files)) == 6
