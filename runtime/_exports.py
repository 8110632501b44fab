"""Public names carry the name of the public module that exports them.

Classes and functions are defined in private modules (``orrery.runtime._errors``) and
re-exported by public ones (``orrery.errors``). :func:`publish` sets their ``__module__`` to
the public module, so tracebacks, reprs and ``pickle`` show ``orrery.errors.NotFound``
rather than the private path (the convention of trio's ``fixup_module_metadata``).
``tests/test_exports.py`` checks every public module.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping


def is_private(module: str) -> bool:
    """Whether a dotted module name has a private component (``orrery.runtime._errors``)."""
    return any(part.startswith("_") for part in module.split("."))


def publish(module: str, namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Gives the classes and functions ``names`` of ``namespace`` the ``__module__`` ``module``.

    Only objects that still carry a private module name are changed: a name exported by two
    public modules keeps the first one that published it. ``orrery/__init__.py`` runs first
    on any import of the package, and ``orrery.hosts`` leaves the names ``orrery`` re-exports
    to it.

    Args:
        module: the public module's name (its ``__name__``).
        namespace: the public module's globals.
        names: the names to publish, usually its ``__all__``.
    """
    for name in names:
        obj = namespace[name]
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and is_private(obj.__module__):
            obj.__module__ = module
