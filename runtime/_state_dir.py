"""The node's state dir and the private files in it.

See docs/sandbox.md, "Inputs the node does not trust".
The state dir holds the embedded Temporal server's database (every workflow payload),
its log and lock files, and the control socket. It is created readable by its owner
only (0700); files orrery writes there are made 0600 (:func:`make_private`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ._errors import UsageError

__all__ = ["make_private", "prepare_state_dir", "private_dir"]


def private_dir(path: Path) -> None:
    """Creates ``path`` (and missing parents) with mode 0700 for the last part.

    An existing directory keeps its mode: it may be one the user chose for other
    things too. The files orrery keeps inside are private either way.

    Raises:
        OSError: the directory cannot be created, or ``path`` is not a directory.
    """
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        if not path.is_dir():
            raise NotADirectoryError(20, "exists and is not a directory", str(path)) from None
        return
    os.chmod(path, 0o700)  # mkdir's mode is filtered through the umask


def prepare_state_dir(path: str | os.PathLike[str]) -> Path:
    """Checks the state dir ``path``, creating it (0700) when it does not exist.

    Returns:
        The state dir.

    Raises:
        UsageError: ``path`` exists and is not a directory, cannot be created, or is not
            writable; the message names the path.
    """
    state = Path(path)
    try:
        private_dir(state)
    except NotADirectoryError as exc:
        if state.exists() and not state.is_dir():
            raise UsageError(f"state dir {state} exists and is not a directory") from None
        raise UsageError(f"cannot create state dir {state}: {exc.strerror or exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot create state dir {state}: {exc.strerror or exc}") from None
    if not os.access(state, os.W_OK | os.X_OK):
        raise UsageError(f"state dir {state} is not writable")
    return state


def make_private(path: Path) -> None:
    """Takes group and other permissions off ``path`` if it exists (a 0644 file becomes 0600)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except FileNotFoundError:
        pass
