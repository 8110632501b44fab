"""Comments and docstrings cite pages of this repository, never the external behaviour spec.

Every tracked ``*.py`` and ``*.lua`` file outside ``docs/`` is scanned for two mistakes: a bare
spec page name (``semantics.md``, ``lua-api.md``, ``registry.md``, ``temporal.md``, ``cli.md``,
``effects.md``, ``examples.md``, ``supervision.md``) not preceded by a path, and a
``docs/...md`` citation naming a file that does not exist (docs/README.md lists the pages).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: A spec page named without a path: ``registry.md`` but not ``docs/reference/yaml-kinds.md``,
#: ``docs/supervision.md`` or ``docs/reference/cli.md`` (preceded by ``/``) or ``x.cli.md5``.
BARE_SPEC = re.compile(
    r"(?<![\w/.-])(?:semantics|lua-api|registry|temporal|cli|effects|examples|supervision)\.md\b"
)
#: A citation of a repository page: ``docs/`` followed by a path ending in ``.md``.
DOCS_CITE = re.compile(r"(?<![\w/.-])docs/[\w./-]*?\.md\b")

_SKIP_DIRS = {".git", ".venv", "docs", "build", "dist", "node_modules", "__pycache__"}


def _sources() -> list[Path]:
    """The tracked Python and Lua files outside docs/ (a walk when git is unavailable)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--", "*.py", "*.lua"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        names = [n for n in out.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = [
            str(p.relative_to(ROOT))
            for p in ROOT.rglob("*")
            if p.suffix in (".py", ".lua") and p.is_file()
        ]
    paths = []
    for name in names:
        parts = Path(name).parts
        if any(part in _SKIP_DIRS or part.endswith(".egg-info") for part in parts[:-1]):
            continue
        paths.append(ROOT / name)
    here = Path(__file__).resolve()  # this file names the patterns it looks for
    return sorted(p for p in paths if p.is_file() and p.resolve() != here)


def _problems() -> list[str]:
    problems = []
    for path in _sources():
        rel = path.relative_to(ROOT)
        text = path.read_text(encoding="utf-8", errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            for m in BARE_SPEC.finditer(line):
                problems.append(f"{rel}:{lineno}: cites the spec page {m.group(0)}")
            for m in DOCS_CITE.finditer(line):
                if not (ROOT / m.group(0)).is_file():
                    problems.append(f"{rel}:{lineno}: cites {m.group(0)}, which does not exist")
    return problems


def test_patterns() -> None:
    """The patterns tell spec names from repository paths."""
    assert BARE_SPEC.search("(registry.md §6)")
    assert BARE_SPEC.search("see supervision.md")
    assert not BARE_SPEC.search("(docs/supervision.md)")
    assert not BARE_SPEC.search('(docs/reference/cli.md, "Commands")')
    assert not BARE_SPEC.search("crypto.hmac.md5")
    found = DOCS_CITE.search('(docs/reference/lua-modules.md, "time")')
    assert found is not None and found.group(0) == "docs/reference/lua-modules.md"


def test_no_spec_citations() -> None:
    """No source file cites the spec by page name, and every docs/ citation exists."""
    problems = _problems()
    assert not problems, "bad citations:\n" + "\n".join(problems)
