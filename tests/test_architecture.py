"""The house stays as docs/architecture.md draws it: rooms, import directions, sizes.

Read from the source with `ast`, so a new import that crosses a wall fails here,
named, rather than in a review months later.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "livevent"
ARCHITECTURE = Path(__file__).parents[1] / "docs" / "architecture.md"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 250
MAX_RUNTIME_MODULES = 12  # directly in runtime/: the rest lives in rooms by job

# What each room (a top-level module or package of livevent) may import. Lower rooms
# never reach up; the event service and the runtime never import each other's HTTP.
BASE = {"__about__", "errors", "aio", "files"}
ALLOWED: dict[str, set[str]] = {
    "__about__": set(),
    "errors": set(),
    "aio": set(),
    "files": set(),
    "model": {"errors"},
    "settings": {"errors", "model"},
    "logs": {"settings"},
    "store": BASE | {"model"},
    "bus": BASE | {"model"},
    "events": BASE | {"model", "settings", "store", "bus"},
    "auth": BASE | {"model", "settings", "store", "bus", "http"},
    "http": BASE | {"model", "settings", "logs", "bus", "auth", "events"},
    "web": BASE | {"http", "model"},
    "api": BASE | {"model", "settings", "logs", "store", "bus", "events", "auth", "http"},
    "runtime": BASE
    | {"model", "settings", "logs", "store", "bus", "events", "auth", "http", "web"},
    "server": {"api", "runtime", "settings", "web"},
    "client": BASE | {"runtime"},
    "tokens": BASE | {"model", "settings", "auth"},
    "doctor": BASE | {"settings", "store", "bus", "runtime"},
}
LIBRARY_TOP = "livevent"  # the package's __init__: everything but the CLI
# Inside a room, finer walls: the HTTP toolkit knows auth's token types only, and
# only auth's web face (middleware, routes) uses the toolkit.
MODULE_RULES = [
    (r"^livevent\.http\.", r"^livevent\.auth\.(?!tokens$)", "http/ knows auth.tokens only"),
    (
        r"^livevent\.auth\.(?!middleware$|routes$)",
        r"^livevent\.http\.",
        "auth's core knows no HTTP",
    ),
    (r"^livevent\.runtime\.", r"^livevent\.(api|server|cli)\b", "runtime/ never imports api/"),
    (
        r"^livevent\.client$",
        r"^livevent\.runtime\.(?!wire$|media\.audio$|media\.opus$)",
        "client: wire only",
    ),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else LIBRARY_TOP


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(module: str, *, top_level_only: bool = False) -> Iterator[str]:
    """The livevent modules `module` imports (`from livevent.bus import keys` -> bus.keys)."""
    tree = ast.parse(MODULES[module].read_text())
    nodes: list[ast.AST] = []
    if top_level_only:
        # What runs on import: module statements, not functions or TYPE_CHECKING blocks.
        stack: list[ast.stmt] = list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.If) and _type_checking(node):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                stack.extend(node.body)
                stack.extend(node.orelse)
                if isinstance(node, ast.Try):
                    stack.extend(node.finalbody)
                    for handler in node.handlers:
                        stack.extend(handler.body)
            nodes.append(node)
    else:
        nodes = list(ast.walk(tree))
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("livevent"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if not base.startswith("livevent"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in MODULES else base


def test_every_room_has_a_rule_and_the_map_names_it() -> None:
    rooms = {room(module) for module in MODULES} - {LIBRARY_TOP, "cli"}
    assert rooms <= set(ALLOWED), f"rooms without an import rule: {rooms - set(ALLOWED)}"
    text = ARCHITECTURE.read_text()
    for name in sorted(rooms | {"cli"}):
        is_package = (PACKAGE / name).is_dir()
        shown = f"{name}/" if is_package else f"{name}.py"
        assert shown in text, f"docs/architecture.md does not name {shown}"


def test_every_path_the_map_names_exists() -> None:
    root = PACKAGE.parents[1]
    for named in re.findall(r"`((?:[a-z_]+/)*[a-z_]+(?:\.py|/))`", ARCHITECTURE.read_text()):
        # A path from the project's root, from the package, or within one of its rooms.
        found = (root / named).exists() or any(PACKAGE.rglob(named.rstrip("/")))
        assert found, f"docs/architecture.md names {named}, which is gone"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_the_way_the_map_says(module: str) -> None:
    own = room(module)
    for imported in imports(module):
        target = room(imported)
        if target == own:
            continue
        if own == "cli" or own == LIBRARY_TOP:
            assert target != "cli" or own == "cli", f"{module} imports the CLI ({imported})"
            continue
        assert target != "cli", f"the library reaches into the CLI: {module} -> {imported}"
        assert target in ALLOWED[own], f"{module} -> {imported}: {own}/ may not import {target}/"
        for source, forbidden, why in MODULE_RULES:
            if re.match(source, module) and re.match(forbidden, imported):
                pytest.fail(f"{module} -> {imported}: {why}")


@pytest.mark.parametrize("top_level_only", [True, False], ids=["on-import", "every-import"])
def test_no_import_cycles(top_level_only: bool) -> None:
    """No cycle through what runs on import, nor through a lazy or TYPE_CHECKING import:
    a cycle hidden in a function is still two rooms that need each other."""
    graph = {
        m: {i for i in imports(m, top_level_only=top_level_only) if i in MODULES} for m in MODULES
    }
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, [*path, module])
        done.add(module)

    for module in graph:
        visit(module, [])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_stay_small(module: str) -> None:
    source = MODULES[module].read_text()
    lines = source.count("\n")
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines: split it by what it does"
    for node in ast.walk(ast.parse(source)):
        length = (getattr(node, "end_lineno", None) or 0) - getattr(node, "lineno", 0) + 1
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert length <= MAX_FUNCTION_LINES, f"{module}.{node.name} has {length} lines"
        if isinstance(node, ast.ClassDef):
            assert length <= MAX_CLASS_LINES, f"class {module}.{node.name} has {length} lines"


def test_the_runtime_lives_in_rooms_each_saying_its_job() -> None:
    runtime = PACKAGE / "runtime"
    direct = sorted(path.name for path in runtime.glob("*.py"))
    assert len(direct) <= MAX_RUNTIME_MODULES, f"{len(direct)} modules directly in runtime/"
    for folder in sorted(p for p in runtime.iterdir() if (p / "__init__.py").exists()):
        tree = ast.parse((folder / "__init__.py").read_text())
        docstring = ast.get_docstring(tree) or ""
        assert docstring, f"runtime/{folder.name}/ does not say its job"
        first_line = docstring.splitlines()[0]
        assert len(first_line) <= 100, f"runtime/{folder.name}/'s job is not one line"
