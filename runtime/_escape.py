"""Visible escapes for control characters in text meant for a terminal or a log line.

Text from Lua (``print``, ``logger``, error messages) and names, topics and entry IDs
may hold newlines, carriage returns and terminal escape sequences. Readable output
(the text log format, ``orrery ps / tree / inspect``) passes such text through
:func:`escape_controls`, so one record stays one line and no escape sequence reaches
the terminal (docs/sandbox.md, "Inputs the node does not trust"). JSON output needs
nothing: ``json`` escapes control characters itself.
"""

from __future__ import annotations

import re

__all__ = ["escape_controls"]

# C0 controls, DEL, C1 controls (U+0085 NEL and U+009B CSI among them), and the
# Unicode line and paragraph separators, which some tools also break lines at.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROLS_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    r"""``text`` with every control character written as a visible escape.

    ``"\n"``, ``"\r"`` and ``"\t"`` become ``\n``, ``\r`` and ``\t``; other C0 controls
    and DEL become ``\xHH`` (ESC is ``\x1b``); C1 controls and U+2028/U+2029 become
    ``\uHHHH`` (``\u0085``). Backslashes are left alone: the text form is for reading,
    the JSON form is exact.

    Args:
        text: any text.
        keep_newlines: leave ``"\n"`` as it is (for a traceback, whose lines are ours).

    Returns:
        The escaped text (``text`` itself when it has no control character).
    """
    pattern = _CONTROLS_BUT_NEWLINE if keep_newlines else _CONTROLS
    if pattern.search(text) is None:
        return text
    return pattern.sub(_visible, text)
