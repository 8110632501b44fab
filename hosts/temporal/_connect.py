"""The connection options of a ``temporal.client``: TLS, credentials, keep-alive.

Credentials are read from their source (literal, file or environment variable)
when the client connects, so a rotated key is used by the next (re)start. A
source that cannot be read fails the start with a message naming the entry and
the field.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import temporalio.client
import temporalio.service

from ...runtime._errors import Unavailable

if TYPE_CHECKING:
    from ...runtime._registry_model import TemporalClientEntry

__all__ = ["connect_options"]


def connect_options(entry: TemporalClientEntry) -> dict[str, Any]:
    """The ``Client.connect`` keyword arguments for an entry's auth, tls and keep-alive.

    TLS is on when ``tls.enabled`` says so, and otherwise exactly when ``auth`` is
    set (docs/reference/yaml-kinds.md, "temporal.client"). An empty result means the SDK's plain
    defaults.

    Raises:
        Unavailable: a credential file or environment variable cannot be read.
    """
    options: dict[str, Any] = {}
    auth, tls = entry.auth, entry.tls
    enabled = tls.enabled if tls is not None and tls.enabled is not None else auth is not None
    if auth is not None and auth.type == "api_key":
        options["api_key"] = _secret(
            entry,
            auth.api_key,
            ("api_key_env", auth.api_key_env),
            ("api_key_file", auth.api_key_file),
        ).strip()
    if enabled:
        ca = _read(entry, "tls.ca_file", tls.ca_file) if tls and tls.ca_file else None
        cert = key = None
        if auth is not None and auth.type == "mtls":
            cert = _secret(entry, auth.cert_pem, ("", None), ("cert_file", auth.cert_file))
            key = _secret(
                entry, auth.key_pem, ("key_pem_env", auth.key_pem_env), ("key_file", auth.key_file)
            )
        server_name = tls.server_name if tls is not None else None
        if ca is None and cert is None and server_name is None:
            options["tls"] = True
        else:
            options["tls"] = temporalio.service.TLSConfig(
                server_root_ca_cert=ca,
                domain=server_name,
                client_cert=cert.encode() if cert is not None else None,
                client_private_key=key.encode() if key is not None else None,
            )
    else:
        options["tls"] = False
    if entry.keep_alive_time is not None or entry.keep_alive_timeout is not None:
        default = temporalio.client.KeepAliveConfig.default
        options["keep_alive_config"] = temporalio.client.KeepAliveConfig(
            interval_millis=_millis(entry.keep_alive_time, default.interval_millis),
            timeout_millis=_millis(entry.keep_alive_timeout, default.timeout_millis),
        )
    return options


def _millis(seconds: float | None, default: int) -> int:
    return default if seconds is None else round(seconds * 1000)


def _secret(
    entry: TemporalClientEntry,
    literal: str | None,
    env: tuple[str, str | None],
    file: tuple[str, str | None],
) -> str:
    """The credential from the source that is set: literal, ``(field, env)``, ``(field, path)``."""
    if literal is not None:
        return literal
    field, name = env
    if name is not None:
        value = os.environ.get(name)
        if value is None:
            raise Unavailable(
                f"temporal client {entry.id}: auth.{field}: environment variable {name} is not set"
            )
        return value
    field, path = file
    assert path is not None
    return _read(entry, f"auth.{field}", path).decode()


def _read(entry: TemporalClientEntry, field: str, path: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise Unavailable(
            f"temporal client {entry.id}: {field}: cannot read {path}: {exc.strerror}"
        ) from None
