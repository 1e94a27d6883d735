"""The Prices page through AppTest on the seeded test ledger, and its services on their own. Saved overrides and
aliases are checked by plain SQL over the `usage` view after the page has closed the ledger.

Pages run as their own script with the sidebar's range in session state (AppTest 1.67 reruns only the page
script of an st.navigation app); the router is checked once with `switch_page`. AppTest cannot type into a data
editor, so edits are sent as the widget state Streamlit's frontend sends."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

import summary_tables
from dashboard.components.formatting import usd
from dashboard.services import prices as svc
from dashboard.services.editing import table_entries
from ledger_factory import build_ledger, write_usage_csv
from warehouse import Warehouse
from warehouse.config import PriceOverride
from warehouse.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
PAGE = str(ROOT / "dashboard" / "views" / "prices.py")
RANGE = (dt.date(2025, 6, 20), dt.date(2025, 9, 17))
GPT4O_LIST = "select sum(list_cost_usd) from usage where model = 'gpt-4o'"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("prices_page")
    return build_ledger(folder / "ledger.duckdb", [write_usage_csv(folder / "usage.csv")])


@pytest.fixture
def copy(ledger, tmp_path) -> Path:
    """A copy of the ledger for a test that writes to it."""
    db = tmp_path / "copy.duckdb"
    db.write_bytes(ledger.read_bytes())
    return db


def close_app() -> None:
    """Drop the caches, which closes the cached warehouse so plain SQL (or the next test) can open the file."""
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def page(monkeypatch, ledger):
    def run(db: Path | None = None, date_range=RANGE, **state) -> AppTest:
        monkeypatch.setenv("MODELMIX_DB", str(db or ledger))
        at = AppTest.from_file(PAGE, default_timeout=120)
        at.session_state["modelmix_date_range"] = date_range
        for k, v in state.items():
            at.session_state[k] = v
        return at.run()

    yield run
    close_app()


def scalar(db: Path, text: str):
    close_app()
    with Warehouse(db) as wh:
        return wh.scalar(text)


def frame(at: AppTest, has_column: str) -> pl.DataFrame:
    found = [d.value for d in at.dataframe if has_column in d.value.columns]
    assert found, (has_column, [list(d.value.columns) for d in at.dataframe])
    return pl.from_pandas(found[0])


def shown(at: AppTest, has_column: str) -> pl.DataFrame:
    """A light summary table's text as the reader sees it (tests/summary_tables.py), the one showing `has_column`."""
    found = [t for t in summary_tables.tables(at) if has_column in t.columns]
    assert found, (has_column, [t.columns for t in summary_tables.tables(at)])
    return found[0]


def edit_and_click(at: AppTest, editor_key: str, edits: dict, button_key: str) -> AppTest:
    """Send a data editor's edits (as the frontend does) together with a button click, in one rerun."""
    editor = [d for d in at.dataframe if editor_key in d.proto.id]
    assert len(editor) == 1, [d.proto.id for d in at.dataframe]
    at.button(key=button_key).click()
    states: WidgetStates = at._tree.get_widget_states()
    w = states.widgets.add()
    w.id = editor[0].proto.id
    w.string_value = json.dumps({"edited_rows": {}, "added_rows": [], "deleted_rows": [], **edits})
    at._run(states)
    return at


# --- the router -----------------------------------------------------------------------------------------------
def test_registered_under_configure(monkeypatch, ledger):
    monkeypatch.setenv("MODELMIX_DB", str(ledger))
    try:
        at = AppTest.from_file(APP, default_timeout=120).run()
        assert not at.exception
        at.switch_page("views/prices.py").run()
        assert not at.exception
        assert at.title[0].value == "Prices"
    finally:
        close_app()
    text = Path(APP).read_text()
    assert '"Configure": [' in text and 'st.Page("views/prices.py", title="Prices"' in text


# --- the page -------------------------------------------------------------------------------------------------
def test_catalog_search_and_price_in_force(page):
    at = page()
    assert not at.exception
    catalog = shown(at, "model_name")
    assert catalog.height == 50                      # the light table's first rows; the grid and the CSV hold 200
    assert any("First 200 models" in c.value and "the first 50 here" in c.value for c in at.caption)
    at.text_input(key="prices_search").input("claude-3-5-haiku").run()
    assert not at.exception
    catalog = shown(at, "model_name")
    assert catalog.height >= 1 and all("claude-3-5-haiku" in m for m in catalog["model"])
    assert catalog["model"][0] == "claude-3-5-haiku"  # exact id first
    # price in force: the default model is gpt-4o; at openai the ledger prices it at the catalog's list
    rows = shown(at, "source")
    assert rows["provider"].to_list() == ["openai"]        # providers listing it without a price are left out
    assert rows["valid_from"].is_null().all()               # the catalog's open-ended bounds are shown empty
    at.selectbox(key="prices_in_force_provider").select("openai").run()
    assert not at.exception
    rows = shown(at, "source")
    assert rows["source"].to_list() == ["catalog"]
    assert (rows["input_mtok"][0], rows["output_mtok"][0]) == ("$2.5000", "$10.0000")
    text = "\n".join(m.value for m in at.markdown)
    assert "**The ledger prices it at** (catalog): input $2.5000, output $10.0000" in text
    assert "price_in_force.sql" in "\n".join(c.value for c in at.caption)


def test_opens_without_the_data_grid_and_each_grid_is_one_click_away(page):
    """A new tab of Prices loads no data grid (its tables are light, each with a Download CSV) and no date picker
    (the "On" calendar waits in a popover showing the day); the catalog's sortable grid and the two editors are
    one toggle away, with the same rows."""
    at = page()
    assert not at.exception
    assert not at.dataframe                                     # no grid, no editor
    assert [b.label for b in at.get("download_button")].count("Download CSV") >= 2   # catalog, unpriced
    [popover] = [p for p in at.get("popover") if p.proto.popover.label.startswith("On ")]
    assert popover.proto.popover.label == f"On {RANGE[1]:%-d %b %Y}"    # the range's last day, the picker's default
    catalog = shown(at, "model_name")
    at.toggle(key="prices_catalog_grid").set_value(True).run()
    assert not at.exception
    grid = frame(at, "model_name")
    assert grid.height == 200 and grid["model"].head(50).to_list() == catalog["model"].to_list()
    for toggle, editor_key in (("overrides_edit", "overrides_editor"), ("aliases_edit", "aliases_editor")):
        at.toggle(key=toggle).set_value(True).run()
        assert not at.exception
        assert [d for d in at.dataframe if editor_key in d.proto.id]
    assert {b.label for b in at.button} >= {"Save overrides", "Save aliases"}
    # a day picked on the calendar is the one the button shows and the lookup uses
    at.date_input(key="prices_on").set_value(dt.date(2025, 7, 1)).run()
    assert not at.exception
    assert any(p.proto.popover.label == "On 1 Jul 2025" for p in at.get("popover"))


def test_unknown_model_says_what_to_do(page):
    at = page(prices_search="no-such-model-anywhere")
    assert not at.exception
    assert any("No catalog model in force today matches" in i.value for i in at.info)
    at.selectbox(key="prices_model").select("acme-llama-ft-v2").run()
    assert not at.exception
    assert any("Nothing prices `acme-llama-ft-v2`" in i.value and "add an override" in i.value for i in at.info)


def test_unpriced_models_with_billed_spend_and_hint(page, ledger):
    at = page()
    assert not at.exception
    unpriced = shown(at, "unpriced_rows")
    assert unpriced["model"].to_list() == ["acme-llama-ft-v2"]
    assert unpriced["unpriced_rows"][0] == str((RANGE[1] - RANGE[0]).days + 1)      # one bucket a day
    assert unpriced["billed_usd"][0] == "$0.00"
    assert "override" in unpriced["hint"][0]
    assert "1 model with no price" in at.warning[0].value


def test_saving_an_edited_override_reprices_the_ledger(page, copy):
    close_app()
    with Warehouse(copy) as wh:
        before = float(wh.scalar(GPT4O_LIST))
    at = page(db=copy, overrides_edit=True)
    added = {"provider": "openai", "model": "gpt-4o", "effective_from": "2025-01-01", "discount_pct": 20,
             "note": "negotiated"}
    edit_and_click(at, "overrides_editor", {"added_rows": [added]}, "overrides_save")
    assert not at.exception
    assert not at.error
    assert any("Saved 1 price overrides" in s.value for s in at.success)
    assert frame(at, "effective_from")["discount_pct"].to_list() == [20.0]
    after = float(scalar(copy, GPT4O_LIST))
    assert after == pytest.approx(before * 0.8, rel=1e-6)


def test_a_bad_override_row_names_the_field_and_saves_nothing(page, copy):
    at = page(db=copy, overrides_edit=True)
    bad = {"provider": "openai", "model": "gpt-4o", "effective_from": "2025-01-01", "discount_pct": 120}
    edit_and_click(at, "overrides_editor", {"added_rows": [bad]}, "overrides_save")
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("**Invalid price overrides**")
    assert "row 1, field discount_pct" in message and "less than or equal to 100" in message
    assert scalar(copy, "select count(*) from price_overrides") == 0


def test_override_file_upload(page, copy):
    at = page(db=copy)
    bad = "provider,model,effective_from,discount_pct\nopenai,gpt-4o,2025-01-01,lots\n"
    at.file_uploader(key="overrides_file").set_value(("deal.csv", bad.encode(), "text/csv")).run()
    at.button(key="overrides_load").click().run()
    assert not at.exception
    assert "deal.csv: entry 1, field discount_pct" in at.error[0].value
    good = ("provider,model,effective_from,input_mtok,output_mtok\n"
            "self-hosted,acme-llama-ft-v2,2025-01-01,0.2,0.6\n")
    at.file_uploader(key="overrides_file").set_value(("deal.csv", good.encode(), "text/csv")).run()
    at.button(key="overrides_load").click().run()
    assert not at.exception and not at.error
    assert any("Loaded 1 price overrides from deal.csv" in s.value for s in at.success)
    # the custom model is priced now: no unpriced models left
    assert any("has a price" in s.value for s in at.success)
    assert not [t for t in summary_tables.tables(at) if "unpriced_rows" in t.columns]
    assert shown(at, "effective_from")["model"].to_list() == ["acme-llama-ft-v2"]     # the overrides, read only
    assert scalar(copy, "select count(*) from usage where model = 'acme-llama-ft-v2' and list_cost_usd is null") == 0


def test_saving_an_alias_prices_the_model(page, copy):
    at = page(db=copy, aliases_edit=True)
    edit_and_click(at, "aliases_editor", {"added_rows": [{"alias": "acme-llama-ft-v2", "model": "gpt-4o-mini"}]},
                   "aliases_save")
    assert not at.exception and not at.error
    assert frame(at, "alias")["model"].to_list() == ["gpt-4o-mini"]
    assert scalar(copy, "select count(*) from usage where model_raw = 'acme-llama-ft-v2' "
                        "and list_cost_usd is null") == 0


def test_empty_ledger_says_what_to_do(page, tmp_path):
    db = tmp_path / "empty.duckdb"
    Warehouse(db).close()
    at = page(db=db, date_range=None)
    assert not at.exception
    assert any("No usage loaded yet" in i.value for i in at.info)
    assert any("No overrides yet" in c.value for c in at.caption)
    assert shown(at, "model_name").height == 50                 # the catalog needs no usage


# --- services -------------------------------------------------------------------------------------------------
def test_search_catalog_service(ledger):
    with Warehouse(ledger) as wh:
        df = svc.search_catalog(wh.query, "GPT-4O-MINI", "openai", dt.date(2025, 9, 1))
        assert df["model"][0] == "gpt-4o-mini"
        assert set(df["provider"]) == {"openai"}
        assert df.schema["input_mtok"] == pl.Float64
        assert "openai" in svc.catalog_providers(wh.query, dt.date(2025, 9, 1))
        assert "acme-llama-ft-v2" in svc.model_choices(wh.query)
        assert "acme-llama-ft-v2" not in svc.catalog_ids(wh.query)


def test_effective_price_rules():
    catalog = {"source": "catalog", "provider": "openai", "input_mtok": 2.5, "output_mtok": 10.0,
               "cache_read_mtok": 1.25, "cache_write_mtok": None, "discount_pct": None}
    discount = {**{k: None for k in catalog}, "source": "override", "provider": "openai", "discount_pct": 20.0}
    explicit = {**discount, "input_mtok": 2.0, "discount_pct": 0.0}
    got = svc.effective_price(pl.DataFrame([catalog, discount]))
    assert got["basis"] == "catalog less 20%"
    assert (got["input_mtok"], got["output_mtok"], got["cache_read_mtok"]) == pytest.approx((2.0, 8.0, 1.0))
    assert got["cache_write_mtok"] == pytest.approx(2.0)          # no cache price: billed at the input price
    got = svc.effective_price(pl.DataFrame([catalog, explicit]))
    assert got["basis"] == "override prices"
    assert (got["input_mtok"], got["output_mtok"]) == pytest.approx((2.0, 10.0))  # missing output: catalog's
    assert svc.effective_price(pl.DataFrame([catalog, {**catalog, "provider": "azure"}])) is None


def test_hint_suggests_an_alias_for_a_near_name():
    known = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"]
    assert "alias gpt4o-mini → gpt-4o-mini" in svc.hint("gpt4o-mini", known)
    assert svc.hint("acme-llama-ft-v2", known).startswith("Add an override")


def test_override_entries_name_row_and_field():
    table = pl.DataFrame({c: [None, None, None] for c in svc.OVERRIDE_COLUMNS}, schema={
        **{c: pl.String for c in svc.OVERRIDE_COLUMNS},
        "effective_from": pl.Date, "effective_to": pl.Date, "input_mtok": pl.Float64, "output_mtok": pl.Float64,
        "cache_read_mtok": pl.Float64, "cache_write_mtok": pl.Float64, "discount_pct": pl.Float64})
    table = table.with_columns(
        provider=pl.Series(["openai", None, "anthropic"]), model=pl.Series(["gpt-4o", None, "claude-3-5-haiku"]),
        effective_from=pl.Series([dt.date(2025, 1, 1), None, dt.date(2025, 1, 1)]),
        discount_pct=pl.Series([10.0, None, None]), note=pl.Series(["", None, "  "]))
    with pytest.raises(ConfigError, match="row 3: Value error, give input_mtok"):   # row 2 is empty: skipped
        svc.override_entries(table)
    entries = svc.override_entries(table.head(2))
    assert entries == [PriceOverride(provider="openai", model="gpt-4o", effective_from=dt.date(2025, 1, 1),
                                     discount_pct=10)]
    with pytest.raises(ConfigError, match="lacks the columns"):
        table_entries(table.drop("model"), PriceOverride, svc.OVERRIDE_COLUMNS, "Invalid price overrides")


def test_alias_entries_reject_duplicates():
    with pytest.raises(ConfigError, match="row 2, field alias: 'GPT4' is already on row 1"):
        svc.alias_entries(pl.DataFrame({"alias": ["gpt4", "GPT4"], "model": ["gpt-4", "gpt-4o"]}))


def test_money_format_has_thousands_separators():
    assert usd(1234567.891) == "$1,234,567.89"
