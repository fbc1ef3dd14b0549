"""The house of DESIGN.md: web -> alerts, devices, campaigns -> telecare; no import runs upward."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EDGES = {"devices", "alerts", "campaigns"}
WEB_FRAMEWORK = {"flask", "flask_login", "flask_wtf", "flask_babel", "werkzeug", "wtforms"}
# The composition root: the `telecare` command and what assembles a running service.
COMPOSITION_ROOT = ("telecare.cli", "telecare.commands", "telecare.assembly")


def modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        yield name, path


def imported_packages(name: str, path: Path) -> set[str]:
    """Top-level packages a module imports, anywhere in it (lazy imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: stays inside the module's own top-level package
                found.add(name.split(".")[0])
            elif node.module:
                found.add(node.module.split(".")[0])
    return found


def is_composition_root(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in COMPOSITION_ROOT)


CORE_MODULES = [(n, p) for n, p in modules("telecare") if not is_composition_root(n)]


@pytest.mark.parametrize(("name", "path"), CORE_MODULES, ids=[n for n, _ in CORE_MODULES])
def test_it_keeps_the_core_free_of_edges_and_of_flask(name, path):
    upward = imported_packages(name, path) & (EDGES | {"web"} | WEB_FRAMEWORK)
    assert not upward, f"{name} imports {sorted(upward)}: the core must name a protocol instead"


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_it_keeps_the_edges_apart(edge):
    for name, path in modules(edge):
        others = imported_packages(name, path) & ((EDGES - {edge}) | {"web"})
        assert not others, f"{name} imports {sorted(others)}: edges meet only in the core"


def test_it_finds_the_import_graph_it_checks():
    # Guard against a walk that silently sees nothing.
    assert len(CORE_MODULES) > 10
    assert "telecare" in imported_packages(*next(modules("web")))
