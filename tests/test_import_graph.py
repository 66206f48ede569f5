"""The import graph of the three packages: knowledge flows one way, no circle, nothing hidden.

Read statically with :mod:`ast` (no module is imported), so a cycle kept alive by an import
inside a function, or an import that runs back up a layer, shows here even when Python
happens to load the modules in an order that works.

Rules (docs/adding_a_method.md, "Structure"):

* ``ssl_proofs`` (theory) never imports ``ssl_proofs_verifiers`` nor ``ssl_proofs_cli``;
  ``ssl_proofs_verifiers`` never imports ``ssl_proofs_cli``;
* no cycle between modules (an edge ``a -> b`` is ``a`` importing ``b``; importing a
  submodule does not count as importing its parent packages, as in import-linter);
* every project-internal import sits at module level, none inside a function;
* no private name (``_x``) is imported from another module.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: import name -> folder in the repository (the numeric side lives in verifiers/ and installs as
#: ``ssl_proofs_verifiers``: a top-level ``verifiers`` belongs to another PyPI distribution)
PACKAGES = {"ssl_proofs": "ssl_proofs", "ssl_proofs_verifiers": "verifiers",
            "ssl_proofs_cli": "ssl_proofs_cli"}
#: layer order: a package may import only packages listed before it
LAYERS = {"ssl_proofs": 0, "ssl_proofs_verifiers": 1, "ssl_proofs_cli": 2}


def _modules():
    out = {}
    for pkg, folder in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [pkg] + list(path.relative_to(ROOT / folder).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            if is_pkg:
                parts = parts[:-1]
            out[".".join(parts)] = (path, is_pkg)
    return out


MODULES = _modules()


class _Imports(ast.NodeVisitor):
    """Collect ``(target module, line, inside a function?, imported names)`` of one module."""

    def __init__(self, name, is_pkg):
        self.package = name if is_pkg else name.rpartition(".")[0]
        self.depth = 0
        self.found = []

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node):
        for alias in node.names:
            self._add(alias.name, node, ())

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        for alias in node.names:
            sub = f"{module}.{alias.name}"
            if sub in MODULES:            # ``from pkg import submodule``
                self._add(sub, node, ())
            else:
                self._add(module, node, (alias.name,))

    def _add(self, module, node, names):
        # the longest project module the dotted name starts with
        parts = module.split(".")
        while parts and ".".join(parts) not in MODULES:
            parts.pop()
        if parts:
            self.found.append((".".join(parts), node.lineno, self.depth > 0, names))


def _imports():
    out = {}
    for name, (path, is_pkg) in MODULES.items():
        visitor = _Imports(name, is_pkg)
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        out[name] = visitor.found
    return out


IMPORTS = _imports()


def _where(name, line):
    return f"{MODULES[name][0].relative_to(ROOT)}:{line}"


def test_the_graph_is_read():
    """The reader sees the edges it must (else every rule below would pass vacuously)."""
    assert len(MODULES) > 40
    targets = {t for t, *_ in IMPORTS["ssl_proofs.methods.base"]}
    assert {"ssl_proofs.graphs", "ssl_proofs.spectral", "ssl_proofs.errors"} <= targets
    assert "ssl_proofs.linear" in {t for t, *_ in IMPORTS["ssl_proofs_verifiers.linear_checks"]}


def test_reader_flags_planted_violations(tmp_path):
    """A function-level import and an upward import are both seen (the reader can fail)."""
    src = "from ..linear import solve_linear\n\ndef f():\n    from ssl_proofs_verifiers import checks\n"
    visitor = _Imports("ssl_proofs.methods.fake", False)
    visitor.visit(ast.parse(src))
    assert ("ssl_proofs.linear", 1, False, ("solve_linear",)) in visitor.found
    assert ("ssl_proofs_verifiers.checks", 4, True, ()) in visitor.found
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("pkg", PACKAGES)
def test_no_import_runs_back_up(pkg):
    bad = [f"{_where(name, line)}: {name} imports {target}"
           for name, found in IMPORTS.items() if name.split(".")[0] == pkg
           for target, line, _, _ in found
           if LAYERS[target.split(".")[0]] > LAYERS[pkg]]
    assert not bad, "imports that run back up a layer:\n" + "\n".join(bad)


def test_no_project_import_inside_a_function():
    bad = [f"{_where(name, line)}: imports {target}"
           for name, found in IMPORTS.items() for target, line, inside, _ in found if inside]
    assert not bad, ("project-internal imports inside functions (move them to the module top; if that "
                     "makes a cycle, the knowledge flows the wrong way):\n" + "\n".join(bad))


def test_no_private_name_crosses_a_module():
    bad = [f"{_where(name, line)}: from {target} import {n}"
           for name, found in IMPORTS.items() for target, line, _, names in found
           for n in names if n.startswith("_") and target != name]
    assert not bad, "private names imported from another module:\n" + "\n".join(bad)


class _ModuleAttributes(ast.NodeVisitor):
    """Collect ``(module, attribute, line)`` for attributes read through a name bound to a project module
    (``from . import runner`` then ``runner._check_run``; ``import a.b as c`` then ``c._x``)."""

    def __init__(self, name, is_pkg):
        self.package = name if is_pkg else name.rpartition(".")[0]
        self.bound = {}
        self.found = []

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name in MODULES and alias.asname:
                self.bound[alias.asname] = alias.name

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.package.split(".")
            module = ".".join(base[: len(base) - (node.level - 1)] + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        for alias in node.names:
            if f"{module}.{alias.name}" in MODULES:
                self.bound[alias.asname or alias.name] = f"{module}.{alias.name}"

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id in self.bound:
            self.found.append((self.bound[node.value.id], node.attr, node.lineno))
        self.generic_visit(node)


def _private_attributes(name, is_pkg, src):
    visitor = _ModuleAttributes(name, is_pkg)
    visitor.visit(ast.parse(src))
    return [(target, attr, line) for target, attr, line in visitor.found
            if attr.startswith("_") and not attr.startswith("__") and target != name]


def test_no_private_name_crosses_a_module_as_an_attribute():
    bad = [f"{_where(name, line)}: {target}.{attr}"
           for name, (path, is_pkg) in MODULES.items()
           for target, attr, line in _private_attributes(name, is_pkg, path.read_text())]
    assert not bad, "private names read through another module:\n" + "\n".join(bad)


def test_attribute_reader_flags_a_planted_private_name():
    src = "from . import runner\nimport ssl_proofs_verifiers.checks as c\n\nrunner._check_run(1)\nc.CHECKS\nc._x\n"
    assert _private_attributes("ssl_proofs_verifiers.parallel", False, src) == [
        ("ssl_proofs_verifiers.runner", "_check_run", 4), ("ssl_proofs_verifiers.checks", "_x", 6)]


def _cycles(graph):
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_cycle():
    graph = {name: {t for t, *_ in found if t != name} for name, found in IMPORTS.items()}
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)
