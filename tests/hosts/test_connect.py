"""A temporal.client's auth, tls and keep-alive fields reach ``Client.connect``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import temporalio.client
import temporalio.service
from orrery.errors import RegistryError, Unavailable
from orrery.hosts.temporal._connect import connect_options
from orrery.hosts.temporal._devserver import DevServer
from orrery.runtime._node import load
from orrery.runtime._registry_model import TemporalClientEntry


def client_entry(tmp_path: Path, fields: str) -> TemporalClientEntry:
    (tmp_path / "app.yaml").write_text(
        "version: '1.0'\nnamespace: app\nentries:\n"
        f"  - {{name: temporal, kind: temporal.client, {fields}}}\n"
    )
    entry = load([tmp_path]).get("app:temporal")
    assert isinstance(entry, TemporalClientEntry)
    return entry


def test_no_auth_means_plain_connection(tmp_path: Path) -> None:
    assert connect_options(client_entry(tmp_path, "address: 'h:7233'")) == {"tls": False}


def test_api_key_from_the_environment_turns_tls_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORRERY_TEST_KEY", "sekret")
    entry = client_entry(
        tmp_path, "address: 'h:7233', auth: {type: api_key, api_key_env: ORRERY_TEST_KEY}"
    )
    assert connect_options(entry) == {"api_key": "sekret", "tls": True}


def test_api_key_file_is_trimmed_and_read_at_each_connect(tmp_path: Path) -> None:
    key = tmp_path / "key.txt"
    key.write_text("first\n")
    entry = client_entry(
        tmp_path, f"address: 'h:7233', auth: {{type: api_key, api_key_file: {key}}}"
    )
    assert connect_options(entry)["api_key"] == "first"
    key.write_text("rotated\n")
    assert connect_options(entry)["api_key"] == "rotated"


def test_mtls_with_ca_and_server_name_builds_a_tls_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "client.pem").write_bytes(b"CERT")
    (tmp_path / "ca.pem").write_bytes(b"CA")
    monkeypatch.setenv("ORRERY_TEST_PEM", "KEY")
    entry = client_entry(
        tmp_path,
        f"address: 'h:7233', auth: {{type: mtls, cert_file: {tmp_path / 'client.pem'}, "
        f"key_pem_env: ORRERY_TEST_PEM}}, tls: {{ca_file: {tmp_path / 'ca.pem'}, "
        "server_name: temporal.internal}",
    )
    assert connect_options(entry) == {
        "tls": temporalio.service.TLSConfig(
            server_root_ca_cert=b"CA",
            domain="temporal.internal",
            client_cert=b"CERT",
            client_private_key=b"KEY",
        )
    }


def test_an_unreadable_credential_names_the_entry_and_field(tmp_path: Path) -> None:
    entry = client_entry(
        tmp_path, "address: 'h:7233', auth: {type: api_key, api_key_env: ORRERY_TEST_UNSET}"
    )
    with pytest.raises(Unavailable, match=r"app:temporal: auth.api_key_env: .*ORRERY_TEST_UNSET"):
        connect_options(entry)
    missing = tmp_path / "nope.pem"
    entry = client_entry(
        tmp_path, f"address: 'h:7233', auth: {{type: api_key, api_key_file: {missing}}}"
    )
    with pytest.raises(Unavailable, match=r"auth.api_key_file: cannot read .*nope.pem"):
        connect_options(entry)


def test_keep_alive_fields_fill_the_sdk_config(tmp_path: Path) -> None:
    entry = client_entry(tmp_path, "address: 'h:7233', keep_alive_time: 15s")
    config = connect_options(entry)["keep_alive_config"]
    assert config == temporalio.client.KeepAliveConfig(
        interval_millis=15000,
        timeout_millis=temporalio.client.KeepAliveConfig.default.timeout_millis,
    )


def test_credentials_with_the_embedded_server_are_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="embedded dev server does not serve TLS"):
        client_entry(tmp_path, "auth: {type: api_key, api_key: k}")


def test_an_api_key_without_tls_reaches_a_real_server(tmp_path: Path) -> None:
    """With tls explicitly off the key travels in plain gRPC metadata, e.g. to a local proxy."""

    async def connect() -> int:
        server = DevServer()
        await server.start()
        try:
            entry = client_entry(
                tmp_path,
                f"address: '{server.address}', auth: {{type: api_key, api_key: k}}, "
                "tls: {enabled: false}",
            )
            options = connect_options(entry)
            assert options == {"api_key": "k", "tls": False}
            client = await temporalio.client.Client.connect(server.address, **options)
            return len([wf async for wf in client.list_workflows()])
        finally:
            await server.stop()

    assert asyncio.run(connect()) == 0
