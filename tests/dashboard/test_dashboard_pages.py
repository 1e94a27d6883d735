"""Every page registered in dashboard/app.py renders without an exception on an empty ledger and on the sample
ledger, and shows something (a title and text). Pages are found by parsing app.py, so a new page is covered."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"


def registered_pages() -> list[str]:
    """The script path of every `st.Page(...)` in app.py, in the order the navigation lists them."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Page"
                and node.args and isinstance(node.args[0], ast.Constant)):
            found.append(node.args[0].value)
    return found


PAGES = registered_pages()


def test_every_page_file_is_registered():
    files = {f"views/{p.name}" for p in (ROOT / "dashboard" / "views").glob("*.py")}
    assert len(PAGES) >= 12 and set(PAGES) == files


@pytest.fixture(params=["empty", "sample"])
def ledger(request, tmp_path, monkeypatch) -> str:
    db = tmp_path / "ledger.duckdb"
    if request.param == "empty":
        Warehouse(db).close()
    else:       # a copy: pages may write (settings, saved scenarios, pull state)
        shutil.copy(request.getfixturevalue("sample_db"), db)
    monkeypatch.setenv("MODELMIX_DB", str(db))
    monkeypatch.setenv("MODELMIX_JOBS_FILE", str(tmp_path / "jobs.yaml"))    # none: the empty state
    yield request.param
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_renders(page, ledger):
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    if page != PAGES[0]:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.title[0].value.strip(), f"{page}: no title"
    text = [e.value for kind in ("markdown", "caption", "info", "subheader") for e in at.get(kind)]
    assert any(str(t).strip() for t in text), f"{page}: nothing written on the {ledger} ledger"
    if ledger == "sample":      # the sample ledger is complete: no page should have to report a problem
        assert not at.error, [e.value for e in at.error]
