"""The layer rules of docs/design.md and the README, checked by parsing imports: only dashboard/ imports streamlit; only warehouse/
opens DuckDB; ingest/ and simulate/ build on warehouse and sql only; sql/ imports nothing of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"ingest", "simulate", "finance", "warehouse", "sql", "dashboard", "modelmix", "pull", "cli"}
MAY_IMPORT = {
    "sql": set(),
    "warehouse": {"sql"},
    "ingest": {"warehouse", "sql"},
    "simulate": {"warehouse", "sql"},
    "finance": {"warehouse", "sql", "simulate"},
    "pull": {"ingest", "warehouse", "sql"},
    # the composition root (settings, runtime) is all the dashboard needs of the command line's world
    "modelmix": {"ingest", "warehouse", "pull", "sql"},
    "dashboard": OURS - {"cli"},
    "cli": OURS - {"dashboard"},     # nothing but tests imports the command line
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _files(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(MAY_IMPORT))
def test_layer_imports(layer):
    for path in _files(layer):
        if path.relative_to(ROOT).as_posix() == "modelmix/__main__.py":
            continue    # `python -m modelmix` is the command line's entry point by its old name
        imported = _imports(path)
        ours = (imported & OURS) - {layer}
        assert ours <= MAY_IMPORT[layer], f"{path.relative_to(ROOT)} imports {ours - MAY_IMPORT[layer]}"
        if layer != "dashboard":
            assert "streamlit" not in imported, f"{path.relative_to(ROOT)} imports streamlit"


def test_only_warehouse_opens_duckdb():
    for layer in OURS - {"warehouse"}:
        for path in _files(layer):
            assert "duckdb.connect" not in path.read_text(encoding="utf-8"), path


def test_no_code_imports_plotly():
    """Charts are Vega-Lite specs (dashboard/components/vega.py); Plotly left the dependencies (docs/design.md
    says why: its 4.7 MB browser bundle made every page with a chart wait ~10 s). The shared venv may still
    hold it, so an import would work here and fail on a fresh machine."""
    for layer in sorted(OURS) + ["bench", "tests", "docs"]:
        for path in _files(layer):
            assert "plotly" not in _imports(path), path


# --- pages ---------------------------------------------------------------------------------------------------
VIEWS = ROOT / "dashboard" / "views"
# what a page may import of ours: services and components, and the dashboard's own session plumbing (the cached
# query runner and settings in `state`, the signed-in person in `auth`)
PAGE_MAY_IMPORT = ("dashboard.services", "dashboard.components", "dashboard.state", "dashboard.auth")


def _first_party_imports(path: Path) -> set[str]:
    """Full dotted names of our modules a file imports (`from dashboard import auth` -> dashboard.auth)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in OURS:
                found |= {f"{node.module}.{a.name}" for a in node.names}
            else:
                found.add(node.module)
    return {name for name in found if name.split(".")[0] in OURS}


def test_pages_import_only_services_and_components():
    pages = sorted(VIEWS.glob("*.py"))
    assert len(pages) >= 12
    for path in pages:
        stray = {m for m in _first_party_imports(path) if not m.startswith(PAGE_MAY_IMPORT)}
        assert not stray, f"{path.relative_to(ROOT)} imports {sorted(stray)}: go through dashboard/services"
        assert "Settings(" not in path.read_text(encoding="utf-8"), f"{path.relative_to(ROOT)}: use state.settings()"


def test_the_rule_catches_a_page_importing_a_lower_layer(tmp_path):
    page = tmp_path / "page.py"
    page.write_text("import simulate\nfrom finance.anomalies import WINDOW\nfrom dashboard import state\n"
                    "from dashboard.services import finance\n")
    found = _first_party_imports(page)
    assert found == {"simulate", "finance.anomalies", "dashboard.state", "dashboard.services"}
    assert {m for m in found if not m.startswith(PAGE_MAY_IMPORT)} == {"simulate", "finance.anomalies"}


def test_no_pages_folder_beside_the_entry_script():
    """A `pages/` folder beside app.py switches a fresh Streamlit into its file-based page mode (direct URLs then
    skip the router); the pages live in `views/`."""
    assert not (ROOT / "dashboard" / "pages").exists()


@pytest.mark.slow
def test_one_neutraliser():
    """The spreadsheet-formula rule is defined once (warehouse/spreadsheet.py) and imported everywhere else."""
    defined = []
    for layer in OURS:
        for path in _files(layer):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            defined += [(path.relative_to(ROOT).as_posix(), n.name) for n in ast.walk(tree)
                        if isinstance(n, ast.FunctionDef) and n.name.startswith(("neutralise", "_safe_text"))]
            defined += [(path.relative_to(ROOT).as_posix(), t.id) for n in ast.walk(tree) if isinstance(n, ast.Assign)
                        for t in n.targets if isinstance(t, ast.Name) and t.id == "FORMULA_START"]
    assert sorted(defined) == [("warehouse/spreadsheet.py", "FORMULA_START"), ("warehouse/spreadsheet.py", "neutralise"),
                               ("warehouse/spreadsheet.py", "neutralise_frame")]
