"""The public surface: every public module's ``__all__`` exists and names its objects publicly.

A public module is one whose dotted name has no component starting with ``_``
(``orrery.errors``, ``orrery.testing``); its classes and functions are defined in private
modules and carry the public module's name as ``__module__`` (``runtime/_exports.py``), so a
traceback says ``orrery.errors.NotFound``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from types import ModuleType

import orrery
import pytest
from orrery.runtime._exports import is_private

#: Names exported by two public modules: the module whose name they carry.
ALSO_EXPORTED = {
    ("orrery.hosts", "ExitResult"): "orrery",
    ("orrery.hosts", "Mailbox"): "orrery",
    ("orrery.testing", "ExpectationFailed"): "orrery.errors",
}


def _public_modules() -> list[ModuleType]:
    names = ["orrery"] + [
        info.name
        for info in pkgutil.walk_packages(orrery.__path__, "orrery.")
        if not is_private(info.name)
    ]
    return [importlib.import_module(name) for name in names]


PUBLIC = _public_modules()
EXPORTING = [module for module in PUBLIC if hasattr(module, "__all__")]


def _exports() -> list[tuple[str, str]]:
    return [(module.__name__, name) for module in EXPORTING for name in module.__all__]


def test_the_public_modules_are_the_documented_ones() -> None:
    """The walk finds the public modules of docs/design.md, so the tests below cover them."""
    names = {module.__name__ for module in EXPORTING}
    assert {"orrery", "orrery.errors", "orrery.aio", "orrery.testing"} <= names
    assert {"orrery.hosts", "orrery.supervision"} <= names


@pytest.mark.parametrize("module", PUBLIC, ids=lambda m: m.__name__)
def test_a_public_module_without_all_defines_nothing_public(module: ModuleType) -> None:
    """A package without ``__all__`` (orrery.runtime, ...) only holds private modules."""
    if hasattr(module, "__all__"):
        return
    public = [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
    ]
    assert public == []


@pytest.mark.parametrize("module", EXPORTING, ids=lambda m: m.__name__)
def test_all_names_exist_once(module: ModuleType) -> None:
    """Every name in ``__all__`` is an attribute of the module, listed once."""
    assert len(set(module.__all__)) == len(module.__all__)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize(("module_name", "name"), _exports())
def test_exported_objects_carry_a_public_module(module_name: str, name: str) -> None:
    """A class or function carries the exporting module's name, and is found there by it."""
    obj = getattr(sys.modules[module_name], name)
    if isinstance(obj, ModuleType):
        assert not is_private(obj.__name__)
        return
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        return  # constants (errors.KINDS, supervision.LOGGER_NAME) have no __module__
    expected = ALSO_EXPORTED.get((module_name, name), module_name)
    assert obj.__module__ == expected
    assert getattr(sys.modules[obj.__module__], obj.__qualname__) is obj


def test_a_traceback_names_the_public_module() -> None:
    """The exception hierarchy prints as orrery.errors.X."""
    assert f"{orrery.errors.NotFound.__module__}.{orrery.errors.NotFound.__qualname__}" == (
        "orrery.errors.NotFound"
    )
    assert orrery.errors.error_for("NotFound", "x").__class__.__module__ == "orrery.errors"
