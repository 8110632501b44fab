"""The errors module and error objects (docs/reference/lua-modules.md, "errors")."""

from __future__ import annotations

from typing import Any

from ._support import run_on_host


async def check(host: str, name: str) -> Any:
    return await run_on_host("errors", "check", host, name)


async def test_kind_constants_are_camel_case_strings(host: str) -> None:
    """errors.* constants hold the CamelCase kind strings; require("errors") is the same table."""
    assert await check(host, "constants") == {
        "UNKNOWN": "Unknown",
        "INVALID": "Invalid",
        "NOT_FOUND": "NotFound",
        "ALREADY_EXISTS": "AlreadyExists",
        "PERMISSION_DENIED": "PermissionDenied",
        "UNAVAILABLE": "Unavailable",
        "INTERNAL": "Internal",
        "CANCELED": "Canceled",
        "CONFLICT": "Conflict",
        "TIMEOUT": "Timeout",
        "RATE_LIMITED": "RateLimited",
        "same_module": True,
    }


async def test_errors_new_accepts_a_message_or_a_table(host: str) -> None:
    """errors.new("m") is Unknown; the table form sets kind, retryable, details; bad forms raise."""
    assert await check(host, "new_forms") == {
        "text": {"kind": "Unknown", "message": "just text", "text": "just text"},
        "full": {
            "kind": "Conflict",
            "message": "m",
            "retryable": True,
            "details": {"id": 7},
            "text": "m",
        },
        "not_retryable": {"kind": "Payment", "message": "n", "retryable": False, "text": "n"},
        "default_kind": {"kind": "Unknown", "message": "d", "text": "d"},
        "no_message_raises": True,
        "two_argument_form_raises": True,
    }


async def test_errors_wrap_prefixes_the_message_and_inherits_the_rest(host: str) -> None:
    """wrap gives 'context: message' with the original kind, retryable and details."""
    inherited = {"kind": "Unavailable", "retryable": True, "details": {"disk": "sda"}}
    assert await check(host, "wrap") == {
        "once": {
            **inherited,
            "message": "saving order: disk full",
            "text": "saving order: disk full",
        },
        "twice": {
            **inherited,
            "message": "checkout: saving order: disk full",
            "text": "checkout: saving order: disk full",
        },
        "from_string": {"kind": "Unknown", "message": "context: plain", "text": "context: plain"},
        "wrap_nil_is_nil": True,
        "original_unchanged": "disk full",
    }


async def test_errors_is_looks_through_wraps(host: str) -> None:
    """errors.is matches the kind of the error or of any error it wraps, and only errors."""
    assert await check(host, "is") == {
        "direct": True,
        "through_wraps": True,
        "other_kind": False,
        "string_is_not_error": False,
        "nil_is_not_error": False,
        "unrelated": False,
    }


async def test_error_objects_are_read_only(host: str) -> None:
    """Assigning to an error object raises and leaves its kind and message unchanged."""
    assert await check(host, "read_only") == {
        "assign_raised": True,
        "assign_method_raised": True,
        "rawset_raised": True,
        "kind": "Conflict",
        "message": "m",
    }
