"""Layers that only point down, and no import cycles (docs/architecture.md, "Layers").

Every module of the package is parsed (not run) and every ``import`` and ``from ... import`` in it
is collected, those inside functions included: a lazy import is a dependency all the same, only
a later one. Each import is mapped to the part of the package it reaches (a subpackage such as
``inference``, or a top-level module such as ``skeleton``); :data:`LAYERS` orders the parts from
the bottom. A module may import its own part and any part of a lower layer; two parts of one
layer are independent of each other. Separately, no modules may import each other in a cycle:
neither through import-time imports (outside functions and ``if TYPE_CHECKING:``) nor through
imports inside functions (a lazy import that dodges a cycle at import time is still a cycle).
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import pkgutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import gastnet

LAYERS: tuple[tuple[str, ...], ...] = (
    ("skeleton", "geometry", "fileio", "safe_load", "extras", "progress", "weights"),  # base: numpy, torch, scipy, tqdm, stdlib
    ("model", "keypoints", "animation"),  # the network; 2D keypoints and their tracks; rigs, BVH and glTF
    ("data", "world"),  # datasets (data.cmu reads BVH); people in the world: lens, placement, fit, camera motion
    ("video", "runtime"),  # video input, 2D detection, the camera's motion measured; running the network
    ("pipeline", "visualization", "examples"),  # lifting recordings; plots and renders; the built-in examples
    ("evaluation",),  # metrics and benchmarks, lifting through the pipeline
    ("training",),  # the training loop: validates through evaluation, plots through visualization
    ("gastnet",),  # the package's own __init__: the public API
    ("cli",),  # the gastnet command
    ("__main__",),  # python -m gastnet
)
"""The parts of the package from the bottom layer up (also the table in docs/architecture.md)."""

KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    # (importing module, imported module): why it is tolerated for now; when one is gone, its line
    # must go too (test_known_exceptions_still_happen warns). The model-loading restructure removed
    # model/checkpoint -> data.mocap and the model/authors <-> model/checkpoint cycle; moving the
    # training config's schema to model/run_config removed model/checkpoint -> training.config.
}
"""Upward imports, or an edge of each import cycle, tolerated with a reason; nothing else is."""


@dataclass(frozen=True)
class Import:
    """One import statement's target module, where it is, and whether it runs when the module is imported."""

    target: str
    line: int
    when: str = "import"  # "import": run when the module is imported; "call": inside a function (lazy);
    # "typing": under ``if TYPE_CHECKING:`` (never run)


def part(module: str) -> str:
    """The part of the package a module belongs to: ``gastnet.pipeline.tracks_to_3d`` -> ``inference``;
    the package's own ``__init__`` is ``gastnet``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module name a ``from`` import names (before its imported names)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(source: str, module: str, is_package: bool, modules: set[str], root: str = "gastnet") -> list[Import]:
    """Every import of a module of ``root`` in ``source`` (the text of ``module``), those in functions too.

    ``from X import name`` reaches the module ``X.name`` when there is one in ``modules``, else ``X``.
    """
    found: list[Import] = []

    def add(target: str, node: ast.stmt, when: str) -> None:
        if target == root or target.startswith(root + "."):
            found.append(Import(target, node.lineno, when))

    def visit(node: ast.AST, when: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and when == "import":
            when = "call"
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, "typing")
            for child in node.orelse:
                visit(child, when)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, when)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node)
            for alias in node.names:
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base, node, when)
        for child in ast.iter_child_nodes(node):
            visit(child, when)

    visit(ast.parse(source), "import")
    return found


def package_sources(package=gastnet) -> dict[str, tuple[str, bool]]:
    """Every module of ``package``: name -> (source text, is a package)."""
    sources = {package.__name__: (Path(package.__file__).read_text(encoding="utf-8"), True)}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        spec = info.module_finder.find_spec(info.name)
        sources[info.name] = (Path(spec.origin).read_text(encoding="utf-8"), info.ispkg)
    main = importlib.util.find_spec(package.__name__ + ".__main__")  # walk_packages leaves __main__ out
    if main is not None:
        sources[main.name] = (Path(main.origin).read_text(encoding="utf-8"), False)
    return sources


def import_graph(sources: dict[str, tuple[str, bool]]) -> dict[str, list[Import]]:
    """Module -> its imports of modules of the package."""
    modules = set(sources)
    return {name: imports_of(text, name, is_pkg, modules) for name, (text, is_pkg) in sources.items()}


def layer_violations(graph: dict[str, list[Import]], layers=LAYERS, exceptions: set[tuple[str, str]] = frozenset()) -> list[str]:
    """One line per import of a part not below the importer's (its own part excepted) or of no
    known module, but for the (importer, imported) pairs in ``exceptions``."""
    level = {p: i for i, layer in enumerate(layers) for p in layer}
    problems = []
    for module, imports in sorted(graph.items()):
        here = part(module)
        for imp in imports:
            there = part(imp.target)
            if (module, imp.target) in exceptions:
                continue
            if imp.target not in graph:
                problems.append(f"{module}:{imp.line} imports {imp.target}, which is no module of the package")
            elif here not in level or there not in level:
                problems.append(f"{module}:{imp.line} imports {imp.target}: "
                                f"{here if here not in level else there} is in no layer of the table")
            elif there != here and level[there] >= level[here]:
                how = {"import": "an import-time", "call": "a lazy", "typing": "a TYPE_CHECKING"}[imp.when]
                where = "the same layer as" if level[there] == level[here] else "a higher layer than"
                problems.append(f"{module}:{imp.line} has {how} import of {imp.target} ({there}: "
                                f"{where} {here})")
    return problems


def _runs(imp: Import, lazy: bool) -> bool:
    return imp.when == "import" or (lazy and imp.when == "call")


def import_cycles(graph: dict[str, list[Import]], lazy: bool = False) -> list[list[str]]:
    """The cycles of import-time imports (with ``lazy``: and of imports inside functions): each
    strongly connected group of modules (Tarjan), sorted."""
    edges = {m: sorted({i.target for i in imports if _runs(i, lazy) and i.target in graph and i.target != m})
             for m, imports in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(v: str) -> None:  # recursion depth: the longest import chain, a few dozen
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return sorted(groups)


def _cycle_edges(graph: dict[str, list[Import]], group: list[str], lazy: bool) -> set[tuple[str, str]]:
    members = set(group)
    return {(m, i.target) for m in group for i in graph[m] if _runs(i, lazy) and i.target in members}


@pytest.fixture(scope="module")
def graph() -> dict[str, list[Import]]:
    return import_graph(package_sources())


def test_every_part_of_the_package_is_in_one_layer(graph):
    listed = [p for layer in LAYERS for p in layer]
    assert len(listed) == len(set(listed)), "a part is in two layers"
    assert {part(m) for m in graph} == set(listed)


def test_every_import_points_down(graph):
    assert layer_violations(graph, exceptions=set(KNOWN_EXCEPTIONS)) == []


@pytest.mark.parametrize("lazy", [False, True], ids=["import-time", "lazy-too"])
def test_no_import_cycles(graph, lazy):
    cycles = [g for g in import_cycles(graph, lazy) if not _cycle_edges(graph, g, lazy) & set(KNOWN_EXCEPTIONS)]
    assert cycles == []


def test_known_exceptions_still_happen(graph):
    """An exception that is gone must leave KNOWN_EXCEPTIONS, so that it cannot come back unseen."""
    gone = [pair for pair in KNOWN_EXCEPTIONS if pair[1] not in {i.target for i in graph.get(pair[0], [])}]
    assert gone == [], "no longer imported: remove from KNOWN_EXCEPTIONS"


def test_the_table_in_the_architecture_page_is_this_one():
    page = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = page.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| ") and line[2].isdigit()]
    documented = tuple(tuple(name.removesuffix("/__init__.py").removesuffix(".py").removesuffix("/")
                             for name in cells[2].split("`")[1::2]) for cells in rows)
    assert [int(cells[1]) for cells in rows] == list(range(len(LAYERS)))
    assert documented == LAYERS


def test_a_synthetic_upward_import_and_cycle_are_reported(graph):
    fake = {name: ("", is_pkg) for name, is_pkg in [("gastnet", True), ("gastnet.model", True),
                                                    ("gastnet.model.a", False), ("gastnet.model.b", False),
                                                    ("gastnet.keypoints", True), ("gastnet.keypoints.c", False),
                                                    ("gastnet.pipeline", True), ("gastnet.pipeline.tracks_to_3d", False),
                                                    ("gastnet.geometry", True), ("gastnet.geometry.camera", False)]}
    fake["gastnet.model.a"] = ("from .b import f\n\ndef g():\n    from ..pipeline.tracks_to_3d import lift_tracks\n", False)
    fake["gastnet.model.b"] = ("import torch\nfrom gastnet.model.a import g\nfrom gastnet.geometry import camera\n", False)
    fake["gastnet.keypoints.c"] = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..model import a\nfrom ..model.b import f\n", False)
    fake_graph = import_graph(fake)
    assert fake_graph["gastnet.model.b"] == [Import("gastnet.model.a", 2), Import("gastnet.geometry.camera", 3)]
    assert layer_violations(fake_graph) == [
        "gastnet.keypoints.c:3 has a TYPE_CHECKING import of gastnet.model.a (model: the same layer as keypoints)",
        "gastnet.keypoints.c:4 has an import-time import of gastnet.model.b (model: the same layer as keypoints)",
        "gastnet.model.a:4 has a lazy import of gastnet.pipeline.tracks_to_3d (pipeline: a higher layer than model)",
    ]
    assert import_cycles(fake_graph) == [["gastnet.model.a", "gastnet.model.b"]]
    assert layer_violations(fake_graph, exceptions={("gastnet.model.a", "gastnet.pipeline.tracks_to_3d")})[-1].startswith(
        "gastnet.keypoints.c:4 ")
    fake["gastnet.model.b"] = ("def g():\n    from .a import f\n    from .nothing import h\n", False)
    fake_graph = import_graph(fake)  # a cycle with a lazy half: not at import time, but a cycle all the same
    assert import_cycles(fake_graph) == [] and import_cycles(fake_graph, lazy=True) == [["gastnet.model.a", "gastnet.model.b"]]
    fake["gastnet.keypoints.c"] = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..model import b\n", False)
    fake["gastnet.model.b"] = ("from ..keypoints import c\n", False)  # a TYPE_CHECKING import makes no cycle
    assert import_cycles(import_graph(fake), lazy=True) == []
    fake["gastnet.model.b"] = ("def g():\n    from .a import f\n    from .nothing import h\n", False)
    fake_graph = import_graph(fake)
    assert "gastnet.model.b:3 imports gastnet.model.nothing, which is no module of the package" in layer_violations(fake_graph)


def test_modules_are_not_shadowed_by_the_names_they_export():
    """``gastnet.pipeline.tracks_to_3d`` is the module, ``gastnet.lift`` the function (a ``mock.patch`` of
    the module's constants must reach the module)."""
    import gastnet.pipeline
    import gastnet.pipeline.tracks_to_3d
    from gastnet.pipeline.recording import lift

    module = sys.modules["gastnet.pipeline.tracks_to_3d"]
    assert gastnet.pipeline.tracks_to_3d is module and inspect.ismodule(module)
    assert gastnet.lift is lift
    for name, module in list(sys.modules.items()):
        parent, _, child = name.rpartition(".")
        if name.startswith("gastnet.") and parent in sys.modules:
            attr = getattr(sys.modules[parent], child, module)
            assert attr is module, f"{parent}.{child} is {attr!r}, not the module {name}"
