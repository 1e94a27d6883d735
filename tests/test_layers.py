"""The layer rules of DESIGN.md, checked by parsing imports: only dashboard/ imports streamlit; only warehouse/
opens DuckDB; ingest/ and simulate/ build on warehouse and sql only; sql/ imports nothing of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"ingest", "simulate", "finance", "warehouse", "sql", "dashboard", "modelmix", "pull"}
MAY_IMPORT = {
    "sql": set(),
    "warehouse": {"sql"},
    "ingest": {"warehouse", "sql"},
    "simulate": {"warehouse", "sql"},
    "finance": {"warehouse", "sql", "simulate"},
    "pull": {"ingest", "warehouse", "sql"},
    "dashboard": OURS,
    "modelmix": OURS - {"dashboard"},
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
        imported = _imports(path)
        ours = (imported & OURS) - {layer}
        assert ours <= MAY_IMPORT[layer], f"{path.relative_to(ROOT)} imports {ours - MAY_IMPORT[layer]}"
        if layer != "dashboard":
            assert "streamlit" not in imported, f"{path.relative_to(ROOT)} imports streamlit"


def test_only_warehouse_opens_duckdb():
    for layer in OURS - {"warehouse"}:
        for path in _files(layer):
            assert "duckdb.connect" not in path.read_text(encoding="utf-8"), path
