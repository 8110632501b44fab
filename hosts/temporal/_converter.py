"""Payloads and errors between orrery and Temporal.

See docs/reference/temporal.md, "Payloads and headers", "Error mapping".

Every orrery value travels as one Temporal payload with metadata
``encoding: binary/msgpack`` whose data is exactly the bytes the Lua codec
produced, so nothing is re-encoded on the way through Temporal. Payloads from
other Temporal clients (``json/plain``, ``binary/null``, ``binary/plain``) are
accepted and converted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs
import temporalio.api.common.v1
import temporalio.converter
import temporalio.exceptions
from temporalio.common import RawValue

from ...runtime._codec import ErrorValue, decode, encode
from ...runtime._errors import KINDS, InvalidError

MSGPACK = b"binary/msgpack"
Payload = temporalio.api.common.v1.Payload


@attrs.frozen
class Packed:
    """Bytes already encoded by the orrery codec (one Lua value)."""

    data: bytes


class _MsgpackConverter(temporalio.converter.EncodingPayloadConverter):
    @property
    def encoding(self) -> str:
        return MSGPACK.decode()

    def to_payload(self, value: Any) -> Payload | None:
        if isinstance(value, Packed):
            return Payload(metadata={"encoding": MSGPACK}, data=value.data)
        return None

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        return Packed(payload.data)


class OrreryPayloadConverter(temporalio.converter.CompositePayloadConverter):
    """Packed values as msgpack payloads; the SDK's default encodings otherwise."""

    def __init__(self) -> None:
        super().__init__(
            _MsgpackConverter(),
            *temporalio.converter.DefaultPayloadConverter.default_encoding_payload_converters,
        )


#: The data converter every orrery client and worker uses.
DATA_CONVERTER = temporalio.converter.DataConverter(payload_converter_class=OrreryPayloadConverter)


def packed(value: Any) -> Packed:
    """Encodes a Python value for Temporal."""
    return Packed(encode(value))


def to_msgpack(payload: Payload) -> bytes:
    """The orrery encoding of one incoming payload, whatever its encoding."""
    enc = payload.metadata.get("encoding", b"")
    if enc == MSGPACK:
        return payload.data
    if enc == b"json/plain":
        return encode(json.loads(payload.data))
    if enc == b"binary/null":
        return encode(None)
    if enc == b"binary/plain":
        return encode(payload.data)
    raise temporalio.exceptions.ApplicationError(
        f"unsupported payload encoding {enc!r}", type="Invalid", non_retryable=True
    )


def raw(data: bytes) -> RawValue:
    """A payload that passes through the SDK's converters untouched."""
    return RawValue(Payload(metadata={"encoding": MSGPACK}, data=data))


def encode_values(values: list[Any]) -> bytes:
    """Encoded array of the given Python values."""
    return encode(values)


def values_from_payloads(payloads: list[Payload]) -> bytes:
    """An encoded array from a list of payloads (workflow and activity arguments)."""
    parts = [to_msgpack(p) for p in payloads]
    return _array(parts)


def signal_values(payloads: Sequence[Payload]) -> bytes:
    """The encoded array of a signal's arguments, whatever client sent them.

    Unlike :func:`values_from_payloads` it never raises anything but
    :class:`InvalidError`, so the workflow can drop a signal it cannot use
    (docs/guide.md, "Signals that cannot be decoded").

    Raises:
        InvalidError: an argument has an unknown encoding, is malformed JSON, or holds a
            JSON value orrery cannot send (an integer outside 64 signed bits, nesting deeper
            than 128 levels); the message names the argument, counting from 1.
    """
    parts = []
    for i, payload in enumerate(payloads, 1):
        try:
            parts.append(to_msgpack(payload))
        except (InvalidError, temporalio.exceptions.ApplicationError) as exc:
            raise InvalidError(f"argument {i}: {exc.message}") from None
        except (ValueError, RecursionError) as exc:  # json.loads, and UTF-8 of its input
            raise InvalidError(f"argument {i}: invalid JSON: {exc}") from None
    return _array(parts)


def _array(encoded: list[bytes]) -> bytes:
    n = len(encoded)
    if n < 16:
        head = bytes([0x90 | n])
    elif n < 0x10000:
        head = b"\xdc" + n.to_bytes(2, "big")
    else:
        head = b"\xdd" + n.to_bytes(4, "big")
    return head + b"".join(encoded)


def array_of(encoded: list[bytes]) -> bytes:
    """Concatenates encoded values into an encoded array."""
    return _array(encoded)


# -- errors ---------------------------------------------------------------------------


def application_error(error: ErrorValue) -> temporalio.exceptions.ApplicationError:
    """An orrery error as an ApplicationError that keeps kind, retryable and details."""
    # Errors returned by Lua code are the program's own business outcome, not a
    # fault of the worker: BENIGN keeps the SDK from logging a traceback for each.
    return temporalio.exceptions.ApplicationError(
        error.message,
        Packed(encode(error)),
        type=error.kind,
        non_retryable=error.retryable is False,
        category=temporalio.exceptions.ApplicationErrorCategory.BENIGN,
    )


def error_from_failure(exc: BaseException) -> ErrorValue:
    """Maps an SDK exception to the orrery error a Lua caller sees.

    See docs/reference/temporal.md, "Error mapping".
    """
    wrapper: dict[str, Any] = {}
    if isinstance(exc, temporalio.exceptions.ActivityError):
        wrapper = {
            "_wrapper": "activity",
            "_activity_id": exc.activity_id,
            "_retry_state": _retry_state(exc.retry_state),
        }
        inner = exc.cause or exc
    elif isinstance(exc, temporalio.exceptions.ChildWorkflowError):
        wrapper = {
            "_wrapper": "child_workflow",
            "_workflow_id": exc.workflow_id,
            "_workflow_type": exc.workflow_type,
            "_run_id": exc.run_id,
            "_retry_state": _retry_state(exc.retry_state),
        }
        inner = exc.cause or exc
    else:
        inner = exc
    base = _map(inner)
    details = dict(base.details or {})
    details.update({k: v for k, v in wrapper.items() if v is not None})
    return ErrorValue(base.kind, base.message, base.retryable, details or None)


def _retry_state(state: Any) -> str | None:
    if state is None:
        return None
    name = getattr(state, "name", str(state))
    return name.removeprefix("RETRY_STATE_").lower()


_NOT_FOUND_TYPES = {
    "NotFoundError",
    "ActivityNotRegisteredError",
    "WorkflowNotRegisteredError",
    "NamespaceNotFoundError",
}


def _map(exc: BaseException) -> ErrorValue:
    if isinstance(exc, temporalio.exceptions.ApplicationError):
        for detail in exc.details:
            if isinstance(detail, Packed):
                value = decode(detail.data)
                if isinstance(value, ErrorValue):
                    return value
        kind = exc.type or "Unknown"
        if kind in _NOT_FOUND_TYPES:
            kind = "NotFound"
        elif kind not in KINDS:
            kind = "Unknown"
        return ErrorValue(
            kind, exc.message, not exc.non_retryable, {"type": exc.type} if exc.type else None
        )
    if isinstance(exc, temporalio.exceptions.TerminatedError):
        return ErrorValue("Canceled", "workflow terminated", False, None)
    if isinstance(exc, temporalio.exceptions.CancelledError):
        return ErrorValue("Canceled", "operation canceled", False, None)
    if isinstance(exc, temporalio.exceptions.TimeoutError):
        kind = getattr(exc.type, "name", "")
        timeout_type = kind.removeprefix("TIMEOUT_TYPE_").lower() if kind else None
        return ErrorValue(
            "Timeout",
            exc.message or "timed out",
            False,
            {"timeout_type": timeout_type} if timeout_type else None,
        )
    message = getattr(exc, "message", None) or str(exc)
    return ErrorValue("Internal", message, None, None)
