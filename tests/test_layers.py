"""The architecture holds: no import cycle, every layer imports only the layers
below it, and docs/architecture.md draws exactly the packages there are.

The floors are read from docs/architecture.md (the block after "Floors, top
to bottom"), so the picture and the rule cannot drift apart. Imports are read
from the source with ``ast``, every one of them: at module level, inside
functions (a lazy import is still a dependency) and under ``TYPE_CHECKING``.

Why ``TYPE_CHECKING`` imports count: an annotation that names a class of an
upper layer is a dependency on it for every reader and for mypy, and a cycle
of them is as tangled as a cycle at run time, only hidden (the server had one
through eight modules). The exceptions are listed in :data:`ALLOWED`, each
with its reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"essaim": ROOT / "core" / "essaim", "essaim_builtins": ROOT / "plugins" / "essaim_builtins"}
ARCHITECTURE = ROOT / "docs" / "architecture.md"

#: Upward imports allowed, annotation-only (under TYPE_CHECKING), and why.
ALLOWED: dict[tuple[str, str], str] = {
    ("essaim.plugin.hookspecs", "essaim.engine"):
        "the engine lifecycle hooks (essaim_engine_started/stopping) hand plugins the Engine itself",
}
#: What a built-in strategy may import of the core: what a third-party plugin can
#: (the public package, errors, the model, the plugin contract). The quality
#: benchmark (essaim_builtins.bench) drives whole simulated campaigns and may
#: use anything.
PLUGIN_API = ("essaim", "essaim.errors", "essaim.model", "essaim.plugin")


def _modules() -> dict[str, Path]:
    found = {}
    for folder in SOURCES.values():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()
PACKAGES = sorted(m for m, path in MODULES.items() if path.name == "__init__.py")


def _target(name: str) -> str | None:
    """The module of ours that ``import name`` loads (``a.b.C`` -> ``a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside.update(id(sub) for sub in ast.walk(node))
    return inside


def imports_of(module: str) -> Iterator[tuple[str, bool]]:
    """(imported module, only under TYPE_CHECKING) for every import in ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    typing_only = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            # "from a.b import c": the submodule a.b.c if there is one, else a.b.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        for name in names:
            target = _target(name)
            if target is not None and target != module:
                yield target, id(node) in typing_only


GRAPH = {module: sorted(set(imports_of(module))) for module in MODULES}


def _floors() -> list[list[str]]:
    """The floors of docs/architecture.md, bottom first; each a list of rooms."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    match = re.search(r"as floors, top to bottom.*?```\n(.*?)```", text, re.DOTALL)
    assert match, "docs/architecture.md has no 'as floors, top to bottom' block"
    floors = []
    for line in match.group(1).splitlines():
        rooms = re.findall(r"\bessaim[\w.]*", line.split("#")[0])
        if rooms:
            floors.append(rooms)
    return floors[::-1]


FLOORS = _floors()


def room_of(module: str) -> tuple[int, str]:
    """(floor, room) of a module: the longest room name that is the module or a package holding it.
    The root package ``essaim`` is a room of its own (the public API), not the house."""
    best: tuple[int, str] | None = None
    for level, rooms in enumerate(FLOORS):
        for room in rooms:
            holds = module == room or (room != "essaim" and module.startswith(room + "."))
            if holds and (best is None or len(room) > len(best[1])):
                best = (level, room)
    assert best is not None, (
        f"{module} is on no floor of docs/architecture.md: add its package to the 'Floors' block"
    )
    return best


def test_the_floors_are_read() -> None:
    assert FLOORS[0] == ["essaim.errors"] and FLOORS[-1] == ["essaim_builtins"], FLOORS
    assert len(GRAPH) > 100 and GRAPH["essaim.server.app"], "the import graph is empty: the reader is broken"


def test_every_room_of_the_floors_exists() -> None:
    stale = [room for rooms in FLOORS for room in rooms if room not in MODULES]
    assert not stale, f"docs/architecture.md's floors name packages that do not exist: {stale}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_is_on_a_floor(module: str) -> None:
    room_of(module)


def test_layers_import_only_downward() -> None:
    upward = []
    for module, imported in GRAPH.items():
        level, room = room_of(module)
        for target, typing_only in imported:
            target_level, target_room = room_of(target)
            if target_room == room or target_level < level:
                continue
            if typing_only and (module, target_room) in ALLOWED:
                continue
            how = " (under TYPE_CHECKING)" if typing_only else ""
            upward.append(f"{module} [{room}] imports {target} [{target_room}]{how}")
    assert not upward, "imports that do not go down a floor (docs/architecture.md):\n" + "\n".join(upward)


def test_the_allowed_exceptions_are_still_needed() -> None:
    for module, room in ALLOWED:
        assert any(_target(t) and room_of(t)[1] == room for t, _ in GRAPH[module]), (
            f"{module} no longer imports {room}: remove it from ALLOWED"
        )


def test_no_module_of_the_core_imports_a_builtin_plugin() -> None:
    """The core names its built-ins only as strings (DEFAULT_PLUGINS) that the
    plugin host loads: it runs without them, as it does with any plugin disabled."""
    offenders = [f"{m} imports {t}" for m, imported in GRAPH.items() if m.split(".")[0] == "essaim"
                 for t, _ in imported if t.split(".")[0] == "essaim_builtins"]
    assert not offenders, "\n".join(offenders)


def test_builtin_strategies_use_only_the_plugin_api() -> None:
    offenders = []
    for module, imported in GRAPH.items():
        if module.split(".")[0] != "essaim_builtins" or module.startswith("essaim_builtins.bench"):
            continue
        for target, _ in imported:
            if target.split(".")[0] == "essaim" and not any(
                target == api or (api != "essaim" and target.startswith(api + ".")) for api in PLUGIN_API
            ):
                offenders.append(f"{module} imports {target}")
    assert not offenders, f"a built-in strategy may import only {PLUGIN_API}:\n" + "\n".join(offenders)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle() -> None:
    edges = {
        module: {t for t, typing_only in imported if not (typing_only and (module, room_of(t)[1]) in ALLOWED)}
        for module, imported in GRAPH.items()
    }
    cycles = _cycles(edges)
    assert not cycles, "import cycles (TYPE_CHECKING imports count, see this module's docstring):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# -- the package table of docs/architecture.md ----------------------------------------------

_ROW = re.compile(r"^\| `(essaim[\w.]*)` \|([^|]*)\|", re.MULTILINE)


def _table() -> dict[str, set[str]]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    rows: dict[str, set[str]] = {}
    for name, modules in _ROW.findall(text):
        assert name not in rows, f"docs/architecture.md has two rows for {name}"
        rows[name] = set(re.findall(r"`(\w+)`", modules))
    return rows


def _table_rows() -> set[str]:
    """A row for every package, and for every module at the top of essaim."""
    return set(PACKAGES) | {m for m in MODULES if m.count(".") == 1 and m.startswith("essaim.")}


def test_the_package_table_has_a_row_for_every_package_and_no_other() -> None:
    rows = set(_table())
    assert rows == _table_rows(), (
        f"docs/architecture.md's package table: missing {sorted(_table_rows() - rows)}, "
        f"stale {sorted(rows - _table_rows())}"
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_each_row_lists_exactly_the_modules_of_its_package(package: str) -> None:
    expected = {m.rpartition(".")[2] for m in MODULES
                if m.rpartition(".")[0] == package and m not in _table_rows()}
    listed = _table().get(package, set())
    assert listed == expected, (
        f"the row of {package} in docs/architecture.md lists {sorted(listed)}; its modules are {sorted(expected)}"
    )
