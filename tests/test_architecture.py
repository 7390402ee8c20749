"""The layout's rules, checked on the source: module size, private names, import graph, public API.

docs/architecture.md states them: hand-written modules of at most 600 lines; no module imports
another module's private (``_``) names; no import cycle; imports at module level except the
documented lazy heavy ones; no reference to files outside the repository; ``import rmtrisk``
loads nothing numerical.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import rmtrisk

PACKAGE = Path(rmtrisk.__file__).resolve().parent
ROOT = PACKAGE.parent
GENERATED = {"rmtrisk._kernels"}
MAX_LINES = 600
#: (module, imported module) pairs allowed inside functions: heavy or optional dependencies of
#: one code path, imported when that path runs.
LAZY_IMPORTS = {
    ("rmtrisk.engine._precision", "rmtrisk.symbolic"),        # sympy: mpmath reference path
    ("rmtrisk.engine.skip_ridge", "sympy"),                   # mpmath reference path
    ("rmtrisk.engine.skip_ridge", "rmtrisk.symbolic.skip_ridge"),
    ("rmtrisk.montecarlo.dynamics", "scipy.integrate"),       # gradient flow only
    ("rmtrisk.dynamics.flow", "scipy.integrate"),             # noise-averaged flow only
    ("rmtrisk.report.dynamics_figures", "matplotlib"),        # optional extra [plot]
    ("rmtrisk.report.dynamics_figures", "matplotlib.pyplot"),
    ("rmtrisk.report.figures", "matplotlib"),                 # optional extra [plot]
    ("rmtrisk.theory.grid", "pandas"),                         # optional extra [frame]
    ("rmtrisk.report.figures", "matplotlib.colors"),
    ("rmtrisk.report.figures", "matplotlib.pyplot"),
    ("rmtrisk.report.figures", "matplotlib.ticker"),
    ("rmtrisk.report.figures", "matplotlib.lines"),
    ("rmtrisk.report.paper_figures", "matplotlib"),
    ("rmtrisk.report.paper_figures", "matplotlib.lines"),
    ("rmtrisk.report.paper_figures", "matplotlib.pyplot"),
    ("rmtrisk.report.natural_images", "skimage.data"),      # optional extra [images]
    ("rmtrisk.report.relu_figures", "matplotlib"),            # optional extra [plot]
    ("rmtrisk.report.relu_figures", "matplotlib.pyplot"),
    ("rmtrisk.report.risk_over_time", "matplotlib"),           # optional extra [plot]
    ("rmtrisk.report.risk_over_time", "matplotlib.pyplot"),
    ("rmtrisk.sweep.executors", "distributed"),                # optional extra [dask]
    ("rmtrisk.sweep.executors", "dask"),
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """Absolute name of the module an ``ImportFrom`` reads from."""
    if node.level == 0:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, list[str], bool]]:
    """``(imported module, names, inside a function)`` of every import (TYPE_CHECKING blocks
    excluded)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
                continue
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                out.extend((alias.name, [], in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, child)
                names = [alias.name for alias in child.names]
                submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
                plain = [n for n in names if f"{target}.{n}" not in MODULES]
                if plain or not submodules:  # "from . import sub" needs only the submodule
                    out.append((target, plain, in_function))
                out.extend((sub, [], in_function) for sub in submodules)
            visit(child, inner)

    visit(tree, False)
    return out


def test_hand_written_modules_are_small():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines())
             for name, path in MODULES.items() if name not in GENERATED}
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def test_no_private_names_imported_across_modules():
    bad = [(module, target, name) for module in MODULES for target, names, _ in _imports(module)
           for name in names if name.startswith("_") and not name.endswith("__")
           and target != "__future__"]  # dunders (__version__) are public
    assert not bad, f"private names imported from other modules: {bad}"


def test_no_function_level_imports_but_the_documented_lazy_ones():
    found = {(module, target) for module in MODULES for target, _, inner in _imports(module)
             if inner}
    assert found <= LAZY_IMPORTS, f"undocumented function-level imports: {found - LAZY_IMPORTS}"


def test_import_graph_has_no_cycle():
    graph = {module: {t for t, _, inner in _imports(module) if t in MODULES and not inner
                      and t != module}
             for module in MODULES}
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                dfs(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            dfs(module)


def test_no_reference_to_files_outside_the_repository():
    names = ("MODEL" + ".md", "shared/" + "spec")  # split: this file must not match itself
    hits = []
    for path in list(PACKAGE.rglob("*.py")) + list((ROOT / "docs").rglob("*.md")) + [
            ROOT / "README.md"] + list((ROOT / "tests").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        hits += [f"{path.relative_to(ROOT)}: {n}" for n in names if n in text]
    assert not hits


def test_import_rmtrisk_loads_nothing_numerical():
    code = ("import sys, rmtrisk; print(sorted(m for m in ('numpy', 'numba', 'scipy', 'sympy', "
            "'mpmath') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_public_api_resolves():
    for name in rmtrisk.__all__:
        assert getattr(rmtrisk, name) is not None, name
    assert set(rmtrisk.__all__) <= set(dir(rmtrisk))
    with pytest.raises(AttributeError, match="no attribute 'solver'"):
        rmtrisk.solver  # noqa: B018


def test_every_regime_has_an_evaluator_and_modules_in_every_layer():
    from rmtrisk.regimes import EVALUATORS, Regime, evaluator

    for regime in Regime:
        if regime is Regime.INTERPOLATION_THRESHOLD:
            assert regime not in EVALUATORS
            continue
        assert callable(evaluator(regime))
    for name in ("skip", "skip_under", "ridge", "skip_ridge"):
        for layer in ("symbolic", "engine", "theory"):
            assert f"rmtrisk.{layer}.{name}" in MODULES, (layer, name)
