"""The Lua engine: one sandboxed Lua 5.4 state with the orrery kernel loaded.

A :class:`LuaEngine` owns a ``lupa.lua54.LuaRuntime`` created without lupa's
Python bridge, loads the trusted Lua files (kernel, codec, one host's
operations, the modules, the sandbox) and compiles registry entries into
factories that instantiate an entry's chunk in a process environment.

Everything that crosses between Python and Lua is ``bytes``, numbers, booleans
or ``None``; structured values cross as msgpack (see :mod:`._codec`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lupa import lua54

from ._errors import OrreryInternalError, Problem, error_for
from ._sizes import format_bytes

if TYPE_CHECKING:
    from ._registry import LuaEntry

#: Lua modules every entry may use without listing them.
ALWAYS_AVAILABLE = ("process", "channel", "errors", "payload")
#: Modules loaded into every state, in load order.
MODULE_NAMES = (
    "errors",
    "payload",
    "channel",
    "process",
    "time",
    "funcs",
    "uuid",
    "crypto",
    "ctx",
    "json",
    "workflow",
    "logger",
)

_LINE_RE = re.compile(r":(\d+):")


def _deny_attributes(obj: object, name: object, is_setting: bool) -> object:
    raise AttributeError("access to Python objects is not allowed")


def _read(package: str, name: str) -> bytes:
    return resources.files(package).joinpath(name).read_bytes()


def lua_file(package: str, name: str) -> tuple[bytes, bytes]:
    """Source and chunk name of a trusted Lua file shipped in ``package``."""
    return _read(package, name), f"={package.rsplit('.', 1)[-1]}/{name}".encode()


#: Room kept free beyond the bytes handed to a limited state: Lua copies call arguments
#: outside any protected call, so a copy that cannot fit would abort the whole process
#: (a Lua "PANIC") instead of raising.
ARGUMENT_SLACK = 64 * 1024


class LuaEngine:
    """One Lua state with the kernel, a host's operations and the modules.

    Args:
        host_ops: source and chunk name of the host operations file.
        bridge: Python callables the host operations call (``py.*`` in Lua).
        config: values for the kernel and the host (node name, budgets).
        max_memory: byte limit for the whole state (0 = unlimited). A process whose
            allocation fails at the limit ends with ``Internal: <entry>: out of memory``.
    """

    def __init__(
        self,
        host_ops: tuple[bytes, bytes],
        bridge: Mapping[str, Callable[..., Any]],
        config: Mapping[str, Any],
        *,
        max_memory: int = 0,
    ) -> None:
        self.runtime = lua54.LuaRuntime(
            register_eval=False,
            register_builtins=False,
            unpack_returned_tuples=True,
            encoding=None,
            attribute_filter=_deny_attributes,
            max_memory=max_memory or None,
        )
        self.max_memory = max_memory
        rt = self.runtime
        self._load = rt.eval("load")
        self._empty_env = rt.table()
        config = {"memory_limit": max_memory, **config}
        lua_config = rt.table_from({k.encode(): _to_lua(v, rt) for k, v in config.items()})
        codec_ctor = self._run_file(lua_file("orrery.runtime", "lua/codec.lua"))
        self.K = self._run_file(
            lua_file("orrery.runtime", "lua/kernel.lua"), codec_ctor, lua_config
        )
        # Go durations (runtime/lua/durations.lua): K.parse_duration, K.option_duration
        self._run_file(lua_file("orrery.runtime", "lua/durations.lua"), self.K)
        # the bounded pattern functions (runtime/lua/patterns.lua), used by the sandbox
        self.K[b"patterns"] = self._run_file(lua_file("orrery.runtime", "lua/patterns.lua"), self.K)
        # the charged string/table/utf8 functions (runtime/lua/cwork.lua), used by the sandbox
        self.K[b"cwork"] = self._run_file(lua_file("orrery.runtime", "lua/cwork.lua"), self.K)
        py = rt.table_from({k.encode(): fn for k, fn in bridge.items()})
        self.H = self._run_file(host_ops, self.K, py, lua_config)
        modules = rt.table()
        for name in MODULE_NAMES:
            modules[name.encode()] = self._run_file(
                lua_file("orrery.modules", f"{name}.lua"), self.K, self.H
            )
        self._run_file(
            lua_file("orrery.runtime", "lua/sandbox.lua"), self.K, self.H, modules, lua_config
        )
        self._define = rt.eval(
            """function(K, id, factory, method, kind, chunkname, mailbox, ...)
                 local allowed = {}
                 for i = 1, select('#', ...) do allowed[(select(i, ...))] = true end
                 local mb
                 if mailbox then
                   local why
                   mb, why = K.mailbox_config(mailbox, id .. ": mailbox")
                   if not mb then return why end
                 end
                 K.define_entry(id, {id = id, factory = factory, method = method, kind = kind,
                                     chunkname = chunkname, allowed = allowed, mailbox = mb})
               end"""
        )
        self._check = rt.eval(
            """function(K, id, factory, method, kind, chunkname, ...)
                 local allowed = {}
                 for i = 1, select('#', ...) do allowed[(select(i, ...))] = true end
                 local def = {id = id, method = method, kind = kind, chunkname = chunkname,
                              allowed = allowed}
                 local env = K.scratch_env(def)
                 local co = coroutine.create(function() return factory(env) end)
                 K.arm(co)
                 K.loading = true
                 K.reset_budget()
                 local ok, ret = coroutine.resume(co)
                 K.loading = false
                 if not ok then
                   -- raw compare and no tostring: a raised table's metamethods would run
                   -- here, outside the budget (docs/sandbox.md, "Metamethods")
                   if rawequal(ret, K.KILL) then
                     return "top-level code runs too long (endless loop?)"
                   end
                   local _, message = K.error_fields(K.to_error(ret))
                   return message
                 end
                 if coroutine.status(co) ~= "dead" then
                   return "top-level code must not wait (operation not allowed while loading)"
                 end
                 if type(ret) == "function" then return nil end
                 if type(ret) == "table" then
                   if type(rawget(ret, method)) == "function" then return nil end
                   return "method"
                 end
                 return "the chunk must return a function or a table, got " .. type(ret)
               end"""
        )
        self._gc_count = rt.eval("function() return collectgarbage('count') end")
        self.collect = rt.eval("function() collectgarbage('collect') end")

    def _compile(self, code: bytes, name: bytes, env: Any = None) -> tuple[Any, bytes | None]:
        """Lua ``load``: (function, None) or (None, message)."""
        res = self._load(code, name, b"t", env) if env is not None else self._load(code, name, b"t")
        if isinstance(res, tuple):
            return None, res[1]
        return res, None

    def _run_file(self, source: tuple[bytes, bytes], *args: Any) -> Any:
        code, name = source
        fn, err = self._compile(code, name)
        if fn is None:
            raise OrreryInternalError(f"cannot load {name.decode()}: {(err or b'').decode()}")
        return fn(*args)

    # -- entries ---------------------------------------------------------------

    def compile(self, entry: LuaEntry) -> tuple[Any, Problem | None]:
        """Compiles an entry's source; returns (factory, problem)."""
        display = entry.source.display
        text = entry.source.text
        if text.startswith("#"):
            text = "--" + text  # a shebang line
        chunkname = ("@" + display).encode()
        src = text.encode()
        probe, err = self._compile(src, chunkname, self._empty_env)
        if probe is None:
            message = (err or b"").decode(errors="replace")
            match = _LINE_RE.search(message)
            line = int(match.group(1)) if match else None
            return None, Problem(
                file=display,
                line=line,
                entry=entry.id,
                kind=entry.kind,
                field="source",
                message=f"Lua syntax error: {message}",
            )
        wrapped = b"return function(_ENV, ...) " + src + b"\nend"
        maker, err = self._compile(wrapped, chunkname, self._empty_env)
        if maker is None:  # pragma: no cover - the probe compiled
            raise OrreryInternalError(f"cannot wrap {display}: {err!r}")
        return maker(), None

    def check(self, entry: LuaEntry) -> list[Problem]:
        """Compiles an entry and runs its top level in a scratch environment."""
        factory, problem = self.compile(entry)
        if problem is not None:
            return [problem]
        modules = [m.encode() for m in entry.modules]
        result = self._check(
            self.K,
            entry.id.encode(),
            factory,
            entry.method.encode(),
            entry.kind.encode(),
            entry.source.display.encode(),
            *modules,
        )
        if result is None:
            return []
        message = result.decode(errors="replace")
        if message == "method":
            return [
                Problem(
                    file=entry.file,
                    line=entry.line,
                    entry=entry.id,
                    kind=entry.kind,
                    field="method",
                    message=f'the chunk returns a table without a function "{entry.method}"',
                )
            ]
        match = _LINE_RE.search(message)
        return [
            Problem(
                file=entry.source.display,
                line=int(match.group(1)) if match else None,
                entry=entry.id,
                kind=entry.kind,
                field="source",
                message=f"error while loading: {message}",
            )
        ]

    def define(self, entry: LuaEntry) -> None:
        """Compiles ``entry`` and makes it spawnable / callable in this state."""
        factory, problem = self.compile(entry)
        if problem is not None:
            raise error_for("Invalid", problem.render())
        modules = [m.encode() for m in entry.modules]
        mailbox = entry.mailbox.as_setting() if entry.mailbox is not None else None
        problem_text = self._define(
            self.K,
            entry.id.encode(),
            factory,
            entry.method.encode(),
            entry.kind.encode(),
            ("@" + entry.source.display).encode(),
            _to_lua(mailbox, self.runtime) if mailbox is not None else None,
            *modules,
        )
        if problem_text is not None:  # pragma: no cover - the registry validated it
            raise error_for("Invalid", problem_text.decode(errors="replace"))

    def memory_used(self) -> int:
        """Bytes currently allocated by the Lua state."""
        return int(self._gc_count() * 1024)

    def no_room_for(self, size: int) -> str | None:
        """Why ``size`` bytes cannot be handed to this state now, or ``None`` when they can.

        Callers check before a call into Lua that copies ``size`` bytes of arguments,
        and refuse the call with the returned reason.
        """
        if not self.max_memory:
            return None
        used = self.runtime.get_memory_used() or 0
        if used + size + ARGUMENT_SLACK <= self.max_memory:
            return None
        return (
            f"a value of {format_bytes(size)} does not fit in the node's Lua memory limit of "
            f"{format_bytes(self.max_memory)} ({format_bytes(used)} in use)"
        )


def _to_lua(value: Any, rt: Any) -> Any:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, dict):
        return rt.table_from({_to_lua(k, rt): _to_lua(v, rt) for k, v in value.items()})
    return value


def package_dir(package: str) -> Path:
    """Filesystem folder of an orrery sub-package (for tools and tests)."""
    return Path(str(resources.files(package)))
