"""Prices: search the catalog, the price in force for a model on a date, the negotiated overrides (edit or
upload), the models nobody can price in the selected range, and the model-name aliases.

The page opens without the data grid (its 1.5 MB of JavaScript, docs/benchmarks.md "ninth session"): its tables are
light summaries with a Download CSV, the catalog goes into the grid on "Sort in a table", the overrides and aliases
become editors on "Edit in a table", and the "On" date's calendar waits in a popover like the sidebar's.

Thin by design: widgets -> one service call per visual (`services/prices.py`) -> render."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import auth, state
from dashboard.components.formatting import NO_REQUEST_COUNTS, day_span, requests_counted, usd
from dashboard.components.widgets import (download_rows, flash, grid_toggle, preformatted, rows_or_editor,
                                          save_button, show_error, sql_behind, summary_table, table)
from dashboard.services import ModelMixError
from dashboard.services import prices as svc

run = state.run_query
FLASH_KEY = "prices_flash"
CATALOG_SHOWN = 50          # catalog rows the light table lists (the grid and the download: CATALOG_LIMIT)
ON_KEY = "prices_on"        # the day "Price in force" looks up (its calendar in a popover)
ANY_PROVIDER = "All providers"
PRICE = "$%.4f"
OVERRIDES_EXAMPLE = """overrides:
  - provider: openai            # the provider id as in the ledger
    model: gpt-4o               # catalog id, or a custom model's name
    effective_from: 2025-01-01
    discount_pct: 15            # off the catalog prices
  - provider: self-hosted
    model: acme-llama-ft-v2
    effective_from: 2025-05-01
    effective_to: 2025-12-31    # inclusive; leave out for open-ended
    input_mtok: 0.20            # USD per 1M tokens; explicit prices replace the catalog's
    output_mtok: 0.60
    note: GPU cost, amortised"""


def price_columns(extra: dict | None = None) -> dict:
    num = st.column_config.NumberColumn
    return {
        "provider": st.column_config.TextColumn("Provider"),
        "model": st.column_config.TextColumn("Model"),
        "model_name": st.column_config.TextColumn("Name"),
        "input_mtok": num("Input", format=PRICE, help="USD per 1M input tokens."),
        "output_mtok": num("Output", format=PRICE, help="USD per 1M output tokens."),
        "cache_read_mtok": num("Cache read", format=PRICE, help="USD per 1M tokens read from the prompt cache."),
        "cache_write_mtok": num("Cache write", format=PRICE, help="USD per 1M tokens written to the prompt cache."),
        "tier_start": num("Tier above", format="localized",
                          help="Requests whose prompt exceeds this many tokens pay the tier prices for all tokens."),
        "tier_input_mtok": num("Tier input", format=PRICE),
        "tier_output_mtok": num("Tier output", format=PRICE),
        **(extra or {}),
    }


def catalog_section() -> None:
    st.subheader("Search the catalog")
    today = dt.date.today()
    left, right = st.columns([3, 2])
    search = left.text_input("Model id or name contains", key="prices_search", placeholder="e.g. gpt-4o, sonnet")
    providers = svc.catalog_providers(run, today)
    provider = right.selectbox("Provider", [ANY_PROVIDER, *providers], key="prices_provider",
                               help="Provider ids as the catalog (genai-prices) names them.")
    found = svc.search_catalog(run, search, None if provider == ANY_PROVIDER else provider, today,
                               svc.CATALOG_LIMIT + 1)
    if found.is_empty():
        st.info(f"No catalog model in force today matches “{search}”"
                + ("" if provider == ANY_PROVIDER else f" at {provider}")
                + ". Try part of the id (`sonnet`, `4o-mini`), another provider, or price a custom model with an "
                  "override below.")
    else:
        cut = found.height > svc.CATALOG_LIMIT
        listed = found.head(svc.CATALOG_LIMIT)
        shown = dict(column_order=["provider", "model", "model_name", "input_mtok", "output_mtok", "cache_read_mtok",
                                   "cache_write_mtok", "tier_start", "tier_input_mtok", "tier_output_mtok"],
                     column_config=price_columns())
        gridded = grid_toggle("prices_catalog_grid")
        if gridded:
            table(listed, height=320, **shown)
        else:
            # the light table lists the first CATALOG_SHOWN rows: 200 rows of ten columns were ~3,000 elements
            # the browser sanitised and laid out on every new tab; the download and the grid hold them all
            summary_table(listed.head(CATALOG_SHOWN), height=320, **shown)
            download_rows(listed, "price-catalog", **shown)
        short = not gridded and listed.height > CATALOG_SHOWN
        st.caption(("First " if cut else "") + f"{listed.height:,} models with the prices in force today "
                   f"({today:%d %b %Y}), USD per 1M tokens"
                   + (f"; the first {CATALOG_SHOWN} here, all {listed.height:,} in **Sort in a table** and the "
                      "download" if short else "")
                   + ". Empty cells: the catalog has no price for that token class (cached tokens are then billed "
                     "at the input price)." + (" Narrow the search to see the rest." if cut else ""))
    sql_behind(svc.QUERIES["catalog"])


def price_in_force_section(default_day: dt.date) -> None:
    st.subheader("Price in force")
    choices = svc.model_choices(run)
    default = choices.index("gpt-4o") if "gpt-4o" in choices else 0
    c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="bottom")
    model = c1.selectbox("Model", choices, index=default, key="prices_model", accept_new_options=True,
                         help="A catalog id, a custom model named in an override, or any model in the ledger.")
    providers = sorted({*svc.catalog_providers(run, default_day),
                        *svc.override_table(run)["provider"].drop_nulls().to_list()})
    provider = c2.selectbox("Provider", [ANY_PROVIDER, *providers], key="prices_in_force_provider",
                            help="Overrides are matched on the ledger's provider id (e.g. `aws-bedrock`), the "
                                 "catalog on its own (`aws`); both are looked up.")
    # the calendar in a popover (mounted only when opened, so a new tab loads none of the date picker's chunks);
    # its button shows the day the picker holds (keyed, the picker keeps a day picked while the range moves)
    held = st.session_state.get(ON_KEY, default_day)
    with c3.popover(f"On {held:%-d %b %Y}", icon=":material/calendar_month:", width="stretch",
                    help="The day the price is looked up for: open to pick it on a calendar."):
        on = st.date_input("On", value=default_day, key=ON_KEY, format="YYYY-MM-DD")
    if not model:
        st.info("Pick a model to see its price.")
        return
    chosen = None if provider == ANY_PROVIDER else provider
    rows = state.call(svc.price_in_force, model=model, on=on, provider=chosen)
    if rows.is_empty():
        st.info(f"Nothing prices `{model}` on {on:%d %b %Y}"
                + ("" if chosen is None else f" at `{chosen}`")
                + ". Its usage is unpriced: add an override below (provider, model, prices or a discount), or an "
                  "alias that maps the name to a catalog model.")
    else:
        money_pct = st.column_config.NumberColumn("Discount", format="%.2f%%",
                                                  help="Off the catalog prices (overrides only).")
        summary_table(rows,
                     column_order=["source", "provider", "model", "input_mtok", "output_mtok", "cache_read_mtok",
                                   "cache_write_mtok", "discount_pct", "tier_start", "valid_from", "valid_to"],
                     column_config=price_columns({
                         "source": st.column_config.TextColumn("Source"),
                         "discount_pct": money_pct,
                         "valid_from": st.column_config.DateColumn("Valid from", format="YYYY-MM-DD",
                                                                   help="Empty: since the catalog's first price."),
                         "valid_to": st.column_config.DateColumn("Valid until (exclusive)", format="YYYY-MM-DD",
                                                                 help="Empty: open-ended."),
                     }))
        applied = svc.effective_price(rows)
        if applied:
            parts = ", ".join(f"{label} {usd(applied[k], 4)}" for label, k in
                              (("input", "input_mtok"), ("output", "output_mtok"),
                               ("cache read", "cache_read_mtok"), ("cache write", "cache_write_mtok"))
                              if applied[k] is not None)
            st.markdown(f"**The ledger prices it at** ({applied['basis']}): {parts} per 1M tokens; batch-tier "
                        "requests at half.")
        else:
            st.caption("Several providers list it: pick one to see the price the ledger applies.")
    sql_behind(svc.QUERIES["price_in_force"])


def overrides_section() -> None:
    st.subheader("Price overrides")
    flash(FLASH_KEY, "overrides")
    st.caption("Negotiated prices or discounts per provider and model, with effective dates (inclusive; an empty "
               "end is open-ended), and custom models the catalog lacks. Explicit prices replace the catalog's; a "
               "discount applies to catalog prices. Saving replaces all overrides and reprices the ledger at once.")
    frame = svc.override_table(run)
    num = st.column_config.NumberColumn
    columns = {
        "provider": st.column_config.TextColumn("Provider", required=True,
                                                help="As in the ledger: openai, anthropic, aws-bedrock, …"),
        "model": st.column_config.TextColumn("Model", required=True),
        "effective_from": st.column_config.DateColumn("From", format="YYYY-MM-DD", required=True),
        "effective_to": st.column_config.DateColumn("To", format="YYYY-MM-DD"),
        "input_mtok": num("Input $/1M", format=PRICE, min_value=0.0),
        "output_mtok": num("Output $/1M", format=PRICE, min_value=0.0),
        "cache_read_mtok": num("Cache read $/1M", format=PRICE, min_value=0.0),
        "cache_write_mtok": num("Cache write $/1M", format=PRICE, min_value=0.0),
        "discount_pct": num("Discount %", format="%.2f", help="0–100, off the catalog prices."),
        "note": st.column_config.TextColumn("Note"),
    }
    edited = rows_or_editor(
        frame, "overrides", state.warehouse().data_version, columns=columns, download="price-overrides",
        empty="No overrides yet: switch on **Edit in a table** to add them, or upload a file.",
        empty_editing="No overrides yet: add a row above (the + under the table), or upload a file.")
    if edited is not None:
        save_button("Save overrides", "overrides_save",
                    lambda: svc.save_overrides(state.warehouse(), edited),
                    lambda n: f"Saved {n:,} price overrides; the ledger is repriced.",
                    flash_key=FLASH_KEY, section="overrides", type="primary")
    sql_behind(svc.QUERIES["overrides"])
    upload = st.file_uploader("Or replace all overrides with a file (YAML or CSV)", type=["yaml", "yml", "csv"],
                              key="overrides_file")
    with st.expander("File format"):
        preformatted(OVERRIDES_EXAMPLE)
        st.caption("A CSV has the same columns: `provider,model,effective_from,effective_to,input_mtok,output_mtok,"
                   "cache_read_mtok,cache_write_mtok,discount_pct,note`.")
    if upload is not None:
        save_button(f"Replace all overrides with {upload.name}", "overrides_load",
                    lambda: svc.load_override_file(state.warehouse(), upload.name, upload.getvalue()),
                    lambda n: f"Loaded {n:,} price overrides from {upload.name}.",
                    flash_key=FLASH_KEY, section="overrides")


def unpriced_section(selected: tuple[dt.date, dt.date] | None) -> None:
    st.subheader("Unpriced models")
    if selected is None:
        st.info("No usage loaded yet, so no model is unpriced. Load an export on **Upload & data**.")
        return
    start, end = selected
    df = svc.unpriced_models(run, start, end, svc.catalog_ids(run))
    if df.is_empty():
        st.success(f"Every model used {day_span(start, end)} has a price.")
    else:
        st.warning(f"**{df.height:,} model{'s' if df.height != 1 else ''} with no price** {day_span(start, end)}: "
                   f"{'its' if df.height == 1 else 'their'} usage counts toward spend only where the source billed "
                   "it. Add an override with the prices above, or an alias below when the name is a known model "
                   "spelled differently.",
                   icon=":material/warning:")
        summary_table(requests_counted(df), download="unpriced-models",
                     column_order=["provider", "model", "unpriced_rows", "requests", "billed_usd", "first_day",
                                   "last_day", "hint"],
                     column_config={
                         "provider": st.column_config.TextColumn("Provider"),
                         "model": st.column_config.TextColumn("Model"),
                         "unpriced_rows": st.column_config.NumberColumn("Unpriced rows", format="localized"),
                         "requests": st.column_config.NumberColumn("Requests", format="localized", help=NO_REQUEST_COUNTS),
                         "billed_usd": st.column_config.NumberColumn(
                             "Billed", format="dollar", help="What the sources billed for it (counted in spend)."),
                         "first_day": st.column_config.DateColumn("First day", format="YYYY-MM-DD"),
                         "last_day": st.column_config.DateColumn("Last day", format="YYYY-MM-DD"),
                         "hint": st.column_config.TextColumn("What to do", width="large"),
                     })
    sql_behind(svc.QUERIES["unpriced"])


def aliases_section() -> None:
    st.subheader("Model aliases")
    flash(FLASH_KEY, "aliases")
    st.caption("A model name as a file spells it → the catalog id to price it as (or a custom model an override "
               "prices). Names match case-insensitively; saving re-resolves every model in the ledger.")
    frame = svc.alias_table(run)
    columns = {"alias": st.column_config.TextColumn("Name in the files", required=True),
               "model": st.column_config.TextColumn("Price as model", required=True)}
    edited = rows_or_editor(frame, "aliases", state.warehouse().data_version, columns=columns,
                            download="model-aliases", empty="No aliases yet: switch on **Edit in a table** to add one.",
                            empty_editing="No aliases yet: add a row above.")
    if edited is not None:
        save_button("Save aliases", "aliases_save",
                    lambda: svc.save_aliases(state.warehouse(), edited),
                    lambda n: f"Saved {n:,} model aliases; the ledger is repriced.",
                    flash_key=FLASH_KEY, section="aliases", type="primary")
    sql_behind(svc.QUERIES["aliases"])


def render() -> None:
    st.title("Prices")
    st.caption("List prices come from the genai-prices catalog (USD per 1M tokens, dated). Overrides and aliases "
               "saved here reprice the whole ledger at once, without a re-ingest.")
    selected = state.date_range()
    catalog_section()
    price_in_force_section(selected[1] if selected else dt.date.today())
    overrides_section()
    unpriced_section(selected)
    aliases_section()


auth.require("analyst")   # the router hides this page from viewers; check again
try:
    render()
except ModelMixError as e:
    show_error(e)
