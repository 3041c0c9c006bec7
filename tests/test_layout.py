"""The package's layout shows its architecture: layers import only from the layers below them,
modules import with no cycle, no module fills in another module's globals, and no file grows
past ~600 lines.

Read from the sources (AST), so a violation fails here before it shows up as a partially
initialised module or a global that is still ``None`` on some import order.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__import__("chainrule").__file__).parent

# Each layer imports (at module level) only from its own layer and the layers below it.
LAYERS = {
    "_typing": 0, "core": 0,
    "ops": 1, "linalg": 1, "special": 1, "fft": 1,
    "transforms": 2, "numerical": 2,
    "autograd": 3,
    "nn": 4, "optim": 4, "serialization": 5,
    "api": 6,
    "tools": 7, "compile": 7,
    "__init__": 8, "__main__": 8,
}

# Imports inside functions that reach a layer above: each on a path that runs rarely (a repr, a
# picture, an error message), with the reason it cannot be at module level.
UPWARD_AT_CALL_TIME = {
    ("core.tensor", "ops.shape"): "Tensor.size(dim) normalises dim as the operations do",
    ("core.tensor", "transforms.forward"): "the error for a conversion inside a transform",
    ("core.tensor", "tools.viz"): "Jupyter's picture of a tensor's graph",
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        yield ".".join(parts), path


def _resolve(module: str, path: pathlib.Path, node: ast.ImportFrom) -> list[str]:
    """The chainrule modules (dotted, without the package name) that ``node`` imports."""
    if node.level == 0:
        if not (node.module or "").startswith("chainrule"):
            return []
        base = node.module.split(".")[1:]
    else:
        here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        if module == "__init__":
            here = []
        base = here[: len(here) - (node.level - 1)] + (node.module.split(".") if node.module else [])
    found = []
    for alias in node.names:
        candidate = ".".join([*base, alias.name])
        if (PACKAGE / pathlib.Path(*candidate.split("."))).with_suffix(".py").exists() or \
                (PACKAGE / pathlib.Path(*candidate.split(".")) / "__init__.py").exists():
            found.append(candidate)
        else:
            found.append(".".join(base) or "__init__")
    return found


def _in_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id in ("TYPE_CHECKING", "_TYPE_CHECKING")


def _imports(module: str, path: pathlib.Path):
    """(imported module, at module level?) for every chainrule import in ``path``, skipping
    ``if TYPE_CHECKING:`` blocks (type checkers only)."""
    tree = ast.parse(path.read_text())
    out = []

    def visit(node, top):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _in_type_checking(child):
                continue
            if isinstance(child, ast.ImportFrom):
                out.extend((m, top) for m in _resolve(module, path, child))
            elif isinstance(child, ast.Import):
                out.extend((a.name.split(".", 1)[1], top) for a in child.names
                           if a.name.startswith("chainrule."))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, False)
            else:
                visit(child, top)

    visit(tree, True)
    return out


MODULES = dict(_modules())
GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def test_every_module_belongs_to_a_layer():
    assert {m.split(".")[0] for m in MODULES} <= set(LAYERS)


def test_module_level_imports_go_down_the_layers():
    wrong = [f"{m} imports {dep}" for m, deps in GRAPH.items() for dep, top in deps
             if top and dep != "__init__" and _layer(dep) > _layer(m)]
    assert not wrong, "\n".join(wrong)


def test_imports_at_call_time_that_go_up_are_the_listed_few():
    found = {(m, dep) for m, deps in GRAPH.items() for dep, top in deps
             if not top and dep != "__init__" and _layer(dep) > _layer(m)}
    assert found == set(UPWARD_AT_CALL_TIME)


def test_no_import_cycle():
    edges = {m: {dep for dep, top in deps if top and dep in MODULES and dep != m}
             for m, deps in GRAPH.items()}
    # a package's __init__ imports its modules; those importing the package itself (for a
    # sibling) would be a cycle too, so packages stay in the graph.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for dep in sorted(edges[m]):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):] + [dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_no_module_assigns_another_modules_globals():
    """``other.NAME = value`` at import time (a global "filled in later") is how the old layout
    closed its import cycles; a class attribute set on a class (``Tensor.x = ...``) is not this."""
    wrong = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias, target in zip(node.names, _resolve(name, path, node)):
                    if target in MODULES and target.endswith(alias.name):
                        modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                modules.update(a.asname or a.name.split(".")[0] for a in node.names)
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for t in targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in modules:
                    wrong.append(f"{name}:{node.lineno}: {t.value.id}.{t.attr} = ...")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_file_over_about_600_lines(name):
    lines = MODULES[name].read_text().count("\n")
    assert lines <= 620, f"{name} has {lines} lines: split it by what it holds"
