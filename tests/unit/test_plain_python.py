"""Handlers and domain are plain Python (issue 7, house style rule 2).

Every services/**/domain.py and handlers.py, and every module of the project they import (directly or through
others, packages' __init__ included), is read as source (ast, nothing is imported): none may import a framework
or driver. A failure names the chain of imports that brings one in.
"""

import ast
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"sqlalchemy", "nameko", "eventlet", "kombu", "elasticsearch"}
ROOTS = sorted(
    path.relative_to(ROOT).as_posix()
    for pattern in ("services/**/domain.py", "services/**/handlers.py")
    for path in ROOT.glob(pattern)
)


def module_path(module: str) -> Path | None:
    """The project file that `module` is, if it is one of ours."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_by(path: Path) -> list[str]:
    """Every module this file imports, anywhere in it: `from a import b` is `a`, and `a.b` when b is a module.
    Importing `a.b.c` runs `a` and `a.b` first, so they count too."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names if module_path(f"{base}.{alias.name}"))
    with_parents = []
    for name in names:
        parts = name.split(".")
        with_parents.extend(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return list(dict.fromkeys(with_parents))


def forbidden_chains(root: str) -> list[str]:
    """Breadth first from `root`: for each forbidden package reached, the shortest chain of imports to it."""
    start = ROOT / root
    seen = {start: None}
    queue = deque([start])
    chains = []
    while queue:
        path = queue.popleft()
        for name in imported_by(path):
            found = module_path(name)
            if found is None:
                if name.split(".")[0] in FORBIDDEN and "." not in name:
                    chain, step = [name], path
                    while step is not None:
                        chain.append(step.relative_to(ROOT).as_posix())
                        step = seen[step]
                    chains.append(" → ".join(reversed(chain)))
            elif found not in seen:
                seen[found] = path
                queue.append(found)
    return chains


def test_the_roots_are_found():
    assert "services/registry/associations/handlers.py" in ROOTS
    assert "services/registry/individuals/domain.py" in ROOTS
    assert "services/search/handlers.py" in ROOTS


@pytest.mark.parametrize("root", ROOTS)
def test_handlers_and_domain_import_no_framework(root):
    chains = forbidden_chains(root)

    assert not chains, f"{root} brings in a framework or driver:\n" + "\n".join(chains)


def test_a_chain_is_named_from_the_root_to_the_framework(tmp_path, monkeypatch):
    package = tmp_path / "services" / "example"
    package.mkdir(parents=True)
    for path in (tmp_path / "services" / "__init__.py", package / "__init__.py"):
        path.write_text("")
    (package / "handlers.py").write_text("from services.example import adapter\n")
    (package / "adapter.py").write_text("def f():\n    from sqlalchemy.orm import Session\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)

    assert forbidden_chains("services/example/handlers.py") == [
        "services/example/handlers.py → services/example/adapter.py → sqlalchemy"
    ]
