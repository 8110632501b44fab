"""Unit tests of modules/uuid.lua, modules/crypto.lua and modules/ctx.lua.

They run against a tiny fake kernel and host written in Lua; the integration tests run the same
modules on the real kernel and hosts.
"""

from __future__ import annotations

import re
import uuid as pyuuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lupa import lua54

MODULES = Path(__file__).resolve().parents[2] / "modules"

FAKE_KERNEL = r"""
local K, H = {}, {}
local ErrMT = {}
ErrMT.__index = {
  kind = function(e) return e._kind end,
  message = function(e) return e._message end,
  retryable = function(e) return e._retryable end,
}
function K.error(kind, message, retryable, details)
  return setmetatable({_kind = kind, _message = message, _retryable = retryable,
                       _details = details}, ErrMT)
end
function K.is_error(v) return getmetatable(v) == ErrMT end
function K.invalid(message) error(K.error("Invalid", message, false), 0) end

K.proc = {pid = "<0.1.0>", ctx = nil}
function K.current() return K.proc end
K.copies = 0
local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end
function K.copy(v)
  K.copies = K.copies + 1
  return copy(v)
end

-- H.random_bytes: a counter stream (1, 2, 3, ...) unless H.fill is set; H.entropy: recorded.
H.counter = 0
function H.random_bytes(n)
  if H.fill then return string.rep(H.fill, n) end
  local t = {}
  for i = 1, n do
    H.counter = (H.counter + 1) % 256
    t[i] = string.char(H.counter)
  end
  return table.concat(t)
end
H.entropy_calls = {}
function H.entropy(n)
  H.entropy_calls[#H.entropy_calls + 1] = n
  return string.rep("\171", n)
end

function try(f, ...)
  local r = table.pack(pcall(f, ...))
  if r[1] then return "ok", table.unpack(r, 2, r.n) end
  if K.is_error(r[2]) then return r[2]:kind(), r[2]:message() end
  return "raw", tostring(r[2])
end

function err(v, e)
  if e ~= nil then return e:kind(), e:message(), e:retryable() end
  return "ok", v
end
return K, H
"""


class Lua:
    """A bare Lua 5.4 state with the fake K/H and the three modules loaded as globals."""

    def __init__(self) -> None:
        self.rt = lua54.LuaRuntime(
            register_eval=False, register_builtins=False, encoding=None, unpack_returned_tuples=True
        )
        k, h = self.rt.execute(FAKE_KERNEL.encode())
        g = self.rt.globals()
        g.K, g.H = k, h
        for name in ("uuid", "crypto", "ctx"):
            source = (MODULES / f"{name}.lua").read_bytes()
            g[name.encode()] = self.rt.execute(
                b"local src, name = ... return assert(load(src, '@' .. name, 't'))(K, H)",
                source,
                name.encode(),
            )

    def run(self, code: str, *args: Any) -> Any:
        """Runs a chunk body; str arguments are passed as Lua strings, results stay bytes."""
        args = tuple(a.encode() if isinstance(a, str) else a for a in args)
        return self.rt.execute(code.encode(), *args)

    def ev(self, expr: str, *args: Any) -> Any:
        return self.run("return " + expr, *args)


@pytest.fixture
def lua() -> Lua:
    return Lua()


UUID_RE = re.compile(rb"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class TestUuidV4:
    def test_shape(self, lua: Lua) -> None:
        """v4 returns a lowercase hyphenated 36-character string and nil."""
        value, err = lua.run("local u, e = uuid.v4() return u, e")
        assert err is None
        assert len(value) == 36
        assert UUID_RE.match(value)

    def test_bytes_come_from_the_random_stream(self, lua: Lua) -> None:
        """The 16 bytes of H.random_bytes appear in order, with version and variant set."""
        assert lua.ev("(uuid.v4())") == b"01020304-0506-4708-890a-0b0c0d0e0f10"
        assert lua.ev("(uuid.v4())") == b"11121314-1516-4718-991a-1b1c1d1e1f20"

    @pytest.mark.parametrize(
        ("fill", "expected"),
        [
            (0x00, b"00000000-0000-4000-8000-000000000000"),
            (0xFF, b"ffffffff-ffff-4fff-bfff-ffffffffffff"),
            (0x5A, b"5a5a5a5a-5a5a-4a5a-9a5a-5a5a5a5a5a5a"),
        ],
    )
    def test_version_and_variant_bits(self, lua: Lua, fill: int, expected: bytes) -> None:
        """The version nibble is 4 and the variant is RFC 4122 whatever the random bytes."""
        assert lua.run(f"H.fill = string.char({fill}) return (uuid.v4())") == expected
        parsed = pyuuid.UUID(expected.decode())
        assert parsed.version == 4
        assert parsed.variant == pyuuid.RFC_4122

    def test_many_are_valid_and_distinct(self, lua: Lua) -> None:
        """Successive values differ and are accepted by Python's uuid module as version 4."""
        # the fake stream repeats every 256 bytes, i.e. every 16 UUIDs
        values = lua.run(
            "local t = {} for i = 1, 16 do t[i] = uuid.v4() end return table.unpack(t)"
        )
        assert len(set(values)) == 16
        for value in values:
            assert UUID_RE.match(value)
            assert pyuuid.UUID(value.decode()).version == 4

    def test_host_failure_is_returned(self, lua: Lua) -> None:
        """An error from H.random_bytes is returned as nil, err."""
        assert lua.run(
            "H.random_bytes = function() return nil, K.error('Unavailable', 'no') end "
            "return err(uuid.v4())"
        )[:2] == (b"Unavailable", b"no")


class TestUuidValidate:
    @pytest.mark.parametrize(
        "text",
        [
            "01020304-0506-4708-890a-0b0c0d0e0f10",
            "01020304-0506-4708-890A-0B0C0D0E0F10",
            "00000000-0000-0000-0000-000000000000",
            "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
            "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "URN:UUID:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "6ba7b8109dad11d180b400c04fd430c8",
        ],
    )
    def test_accepts_uuid_forms(self, lua: Lua, text: str) -> None:
        """The canonical form (any case), braces, urn:uuid: and 32 bare hex digits are valid."""
        assert lua.ev("uuid.validate(...)", text) is True

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "01020304-0506-4708-890a-0b0c0d0e0f1",
            "01020304-0506-4708-890a-0b0c0d0e0f100",
            "01020304_0506-4708-890a-0b0c0d0e0f10",
            "0102030-40506-4708-890a-0b0c0d0e0f10",
            "0102030g-0506-4708-890a-0b0c0d0e0f10",
            "(6ba7b810-9dad-11d1-80b4-00c04fd430c8)",
            "urn:uid:56ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "6ba7b8109dad11d180b400c04fd430cz",
            " 1020304-0506-4708-890a-0b0c0d0e0f10",
            "+1020304-0506-4708-890a-0b0c0d0e0f10",
        ],
    )
    def test_rejects_other_strings(self, lua: Lua, text: str) -> None:
        """Wrong length, separators or digits are not valid."""
        assert lua.ev("uuid.validate(...)", text) is False

    def test_non_strings_are_not_uuids(self, lua: Lua) -> None:
        """validate is a pure predicate: other types give false."""
        assert lua.ev("uuid.validate(nil), uuid.validate(12), uuid.validate({})") == (
            False,
            False,
            False,
        )

    @given(st.uuids())
    @settings(max_examples=100)
    def test_accepts_python_uuids(self, value: pyuuid.UUID) -> None:
        """Every UUID Python prints, in each form, is valid."""
        lua = _shared()
        for text in (str(value), str(value).upper(), value.hex, value.urn, f"{{{value}}}"):
            assert lua.ev("uuid.validate(...)", text) is True


_SHARED: list[Lua] = []


def _shared() -> Lua:
    if not _SHARED:
        _SHARED.append(Lua())
    return _SHARED[0]


class TestUuidExtended:
    @pytest.mark.parametrize(
        "name", ["v1", "v3", "v5", "v7", "version", "variant", "parse", "format"]
    )
    def test_raise_not_supported(self, lua: Lua, name: str) -> None:
        """Extended functions raise a clear Invalid error."""
        assert lua.ev(f"try(uuid.{name}, 'x')") == (
            b"Invalid",
            f"uuid.{name} is not supported by this orrery build".encode(),
        )


# --- crypto ------------------------------------------------------------------------------------


class TestCryptoRandom:
    @pytest.mark.parametrize("fn", ["crypto.random.bytes", "crypto.random_bytes"])
    def test_bytes_come_from_entropy(self, lua: Lua, fn: str) -> None:
        """Both spellings return n bytes of H.entropy and nil."""
        assert lua.run(f"local b, e = {fn}(16) return b, e, H.entropy_calls[1]") == (
            b"\xab" * 16,
            None,
            16,
        )

    @pytest.mark.parametrize("n", ["1", "1048576", "16.0"])
    def test_accepted_sizes(self, lua: Lua, n: str) -> None:
        """Integers 1..1048576 (also written as integral floats) are accepted."""
        assert lua.ev(f"#crypto.random.bytes({n})") == int(float(n))

    @pytest.mark.parametrize("n", ["0", "-1", "1048577", "1.5", "0/0", "1/0", "math.mininteger"])
    def test_bad_sizes_are_returned(self, lua: Lua, n: str) -> None:
        """Other numbers return nil and a non-retryable Invalid error, without asking the host."""
        kind, message, retryable = lua.ev(f"err(crypto.random_bytes({n}))")
        assert kind == b"Invalid"
        assert b"1..1048576" in message
        assert retryable is False
        assert lua.ev("#H.entropy_calls") == 0

    @pytest.mark.parametrize("arg", ["'16'", "nil", "{}", "true"])
    def test_non_numbers_are_raised(self, lua: Lua, arg: str) -> None:
        """A non-number argument is a programming error: raised Invalid."""
        assert lua.ev(f"try(crypto.random.bytes, {arg})")[0] == b"Invalid"

    def test_host_failure_is_returned(self, lua: Lua) -> None:
        """An error from H.entropy is returned as nil, err."""
        assert lua.run(
            "H.entropy = function() return nil, K.error('Unavailable', 'no') end "
            "return err(crypto.random.bytes(4))"
        )[:2] == (b"Unavailable", b"no")


class TestCryptoExtended:
    @pytest.mark.parametrize(
        "name",
        [
            "crypto.random.string",
            "crypto.random.uuid",
            "crypto.hmac.sha256",
            "crypto.hmac.sha512",
            "crypto.hmac.md5",
            "crypto.encrypt.aes",
            "crypto.decrypt.chacha20",
            "crypto.jwt.encode",
            "crypto.jwt.verify",
            "crypto.pbkdf2",
            "crypto.constant_time_compare",
        ],
    )
    def test_raise_not_supported(self, lua: Lua, name: str) -> None:
        """Extended entries raise a clear Invalid error naming the function."""
        assert lua.ev(f"try({name}, 'x')") == (
            b"Invalid",
            f"{name} is not supported by this orrery build".encode(),
        )


# --- ctx ---------------------------------------------------------------------------------------

CONTEXT = "K.proc.ctx = {tenant = 'acme', n = 3, off = false, nested = {a = {1, 2}}, "
CONTEXT += "['orrery.trace'] = 'secret', ['orrery.'] = 'x', orrery = 'visible'} "


class TestCtxGet:
    def test_present_values(self, lua: Lua) -> None:
        """Present keys return value, nil, false included."""
        assert lua.run(
            CONTEXT + "local a, e1 = ctx.get('tenant') local b = ctx.get('n') "
            "local c, e3 = ctx.get('off') return a, e1, b, c, e3, (ctx.get('orrery'))"
        ) == (b"acme", None, 3, False, None, b"visible")

    def test_missing_key_is_not_found(self, lua: Lua) -> None:
        """A missing key returns nil and NotFound."""
        assert lua.run(CONTEXT + "return err(ctx.get('no-such-key'))")[0] == b"NotFound"

    def test_reserved_keys_are_not_found(self, lua: Lua) -> None:
        """Keys starting with "orrery." are hidden: NotFound."""
        assert lua.run(CONTEXT + "return err(ctx.get('orrery.trace'))")[0] == b"NotFound"
        assert lua.run(CONTEXT + "return err(ctx.get('orrery.'))")[0] == b"NotFound"

    def test_empty_key_is_invalid(self, lua: Lua) -> None:
        """An empty key returns nil and a non-retryable Invalid."""
        assert lua.run(CONTEXT + "return err(ctx.get(''))") == (
            b"Invalid",
            b"ctx.get: key must not be empty",
            False,
        )

    @pytest.mark.parametrize("arg", ["nil", "1", "{}", "true"])
    def test_non_string_key_is_raised(self, lua: Lua, arg: str) -> None:
        """A key that is not a string is a raised Invalid error."""
        assert lua.run(CONTEXT + f"return try(ctx.get, {arg})")[0] == b"Invalid"

    def test_no_context(self, lua: Lua) -> None:
        """Without a context every key is NotFound."""
        assert lua.run("K.proc.ctx = nil return err(ctx.get('tenant'))")[0] == b"NotFound"

    def test_table_values_are_copies(self, lua: Lua) -> None:
        """A table value is a copy: changing it does not change the context."""
        assert lua.run(
            CONTEXT + "local t = ctx.get('nested') t.a[1] = 99 t.b = 1 "
            "return ctx.get('nested').a[1], ctx.get('nested').b, rawequal(t, K.proc.ctx.nested)"
        ) == (1, None, False)


class TestCtxAll:
    def test_copy_without_reserved_keys(self, lua: Lua) -> None:
        """all() returns a fresh copy of the context without "orrery." keys."""
        got = lua.run(
            CONTEXT + "local t, e = ctx.all() local keys = {} "
            "for k in pairs(t) do keys[#keys + 1] = k end table.sort(keys) "
            "return e, rawequal(t, K.proc.ctx), K.copies, table.concat(keys, ',')"
        )
        assert got == (None, False, 1, b"n,nested,off,orrery,tenant")

    def test_changing_the_copy_leaves_the_context(self, lua: Lua) -> None:
        """Changing the returned table changes neither the context nor later results."""
        assert lua.run(
            CONTEXT + "local t = ctx.all() t.tenant = 'evil' t.nested.a[1] = 9 "
            "return K.proc.ctx.tenant, ctx.all().tenant, ctx.all().nested.a[1], "
            "K.proc.ctx['orrery.trace']"
        ) == (b"acme", b"acme", 1, b"secret")

    @pytest.mark.parametrize("setup", ["K.proc.ctx = nil", "K.proc.ctx = {}"])
    def test_empty_when_no_context(self, lua: Lua, setup: str) -> None:
        """Without context, all() returns an empty table and nil."""
        assert lua.run(setup + " local t, e = ctx.all() return type(t), next(t), e") == (
            b"table",
            None,
            None,
        )

    def test_fresh_table_each_call(self, lua: Lua) -> None:
        """Each call returns a new table."""
        assert lua.run("K.proc.ctx = nil return rawequal(ctx.all(), ctx.all())") is False
