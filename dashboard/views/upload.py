"""Upload & data: drop usage exports, see each file's detected format and first rows, load them with a progress
bar, read the result per file (with rejected rows to download); the ingest history with removal of an
upload's rows; and which source covers each provider on each day (gaps and overlaps).

Thin by design: widgets -> one service call per visual -> a figure builder -> render."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import auth, state
from dashboard.components import exports, upload_charts
from dashboard.components.formatting import day_span, plural
from dashboard.components.widgets import grid_toggle, preformatted, sql_behind, summary_table, table
from dashboard.services import ModelMixError
from dashboard.services import upload as svc
from dashboard.services.upload import QUERIES

run = state.run_query
SESSION_KEY = "upload_session"        # this session's staging folder name
STAGED_KEY = "upload_staged"          # file_id -> {"path", "name", "size"}
UPLOADER_GEN_KEY = "upload_gen"       # bumped after a load: a new uploader key makes Streamlit drop its copies
RESULTS_KEY = "upload_results"        # the last load's FileResults
REMOVE_KEY = "upload_pending_remove"  # ingest_id waiting for confirmation
AUTO = "Detect automatically"
OVERLAPS_KEY = "upload_overlaps_open"  # the coverage's overlaps expander: open (its table built) or closed


def uploader_key() -> str:
    return f"upload_files_{st.session_state.get(UPLOADER_GEN_KEY, 0)}"


def override_key(file_id: str) -> str:
    return f"upload_format_{file_id}"


@st.cache_data(show_spinner=False, max_entries=64)
def inspect(path: str, name: str, format_id: str | None) -> list[svc.Inspection]:
    return svc.inspect(Path(path), name, format_id, state.settings().max_unzipped_bytes)


def staged_files(uploads: list) -> dict[str, dict]:
    """Stream each new upload to this session's staging folder; forget (and delete) files no longer listed."""
    staged: dict[str, dict] = st.session_state.setdefault(STAGED_KEY, {})
    token = st.session_state.setdefault(SESSION_KEY, uuid.uuid4().hex)
    current = {u.file_id for u in uploads}
    for file_id in [f for f in staged if f not in current]:
        svc.discard([staged.pop(file_id)["path"]])
    for u in uploads:
        if u.file_id not in staged:
            try:
                path = svc.stage(u, u.name, svc.session_folder(token))
            except ModelMixError as e:       # over the upload limit: say so, keep the other files
                st.error(f"{e.title}: {e.message}")
                continue
            staged[u.file_id] = {"path": str(path), "name": u.name, "size": u.size}
    return {u.file_id: staged[u.file_id] for u in uploads if u.file_id in staged}


def preview(file_id: str, item: dict) -> tuple[str | None, bool]:
    """The detected format and first rows of one staged file; returns the chosen format override and whether
    the file can be loaded as it stands (a known format with its columns)."""
    labels = svc.format_labels()
    choice = st.columns([2, 3])[0].selectbox("Format", [AUTO, *labels], format_func=lambda v: labels.get(v, v),
                          key=override_key(file_id),
                          help="Leave on automatic unless detection picks the wrong format.")
    override = None if choice == AUTO else choice
    ok = True
    for ins in inspect(item["path"], item["name"], override):
        if len(ins.name) > len(item["name"]):       # a zip member
            st.markdown(f"**{ins.name.removeprefix(item['name'] + '/')}** (in the zip)")
        if ins.format_id:
            how = "chosen" if override else "detected"
            st.markdown(f"Format {how}: **`{ins.format_id}`** · {ins.kind} · {ins.reads}")
            if override and ins.detected_id and ins.detected_id != override:
                st.caption(f"Detection would pick `{ins.detected_id}`.")
        if ins.missing:
            st.error(f"Missing required column(s) for `{ins.format_id}`: {', '.join(ins.missing)}. "
                     "This file won't load with this format.")
            ok = False
        if ins.error:
            st.error(ins.error)
            ok = False
        if ins.preview is not None and ins.preview.width:
            st.caption(f"First {plural(ins.preview.height, 'row')} as text, as the file has them:")
            table(ins.preview, hide_index=True, width="stretch", height=min(38 + 35 * ins.preview.height, 400))
        elif ins.preview_text:
            st.caption("Start of the file:")
            preformatted(ins.preview_text, max_height=240)
    return override, ok


def load_files(files: dict[str, dict], overrides: dict[str, str | None]) -> None:
    wh = state.warehouse()
    results = []
    bar = st.progress(0.0, text="Starting…")
    for i, (file_id, item) in enumerate(files.items()):
        bar.progress(i / len(files), text=f"Loading {item['name']} ({i + 1} of {len(files)})…")

        def done(r, i=i):
            results.append(r)
            rate = f" · {r.rows_per_second:,.0f} rows/s" if r.rows_per_second else ""
            bar.progress((i + 1) / len(files), text=f"{r.path}: {r.status}{rate}")

        svc.load(wh, Path(item["path"]), item["name"], overrides.get(file_id), on_result=done,
                 max_unzipped_bytes=state.settings().max_unzipped_bytes)
    svc.discard([Path(item["path"]) for item in files.values()])
    st.session_state[STAGED_KEY] = {}
    st.session_state[RESULTS_KEY] = results
    st.session_state[UPLOADER_GEN_KEY] = st.session_state.get(UPLOADER_GEN_KEY, 0) + 1
    # show the new data: the sidebar range goes back to the ledger's latest days on the next run
    st.session_state.pop(state.DATE_WIDGET_KEY, None)
    st.rerun()


def upload_section() -> None:
    st.subheader("Load usage exports")
    uploads = st.file_uploader(
        "Drop usage export files here", type=svc.UPLOAD_TYPES, accept_multiple_files=True, key=uploader_key(),
        help="Provider usage or cost exports, gateway logs, cloud billing exports, or a CSV in the canonical "
             "columns; .gz and .zip are opened. The format is detected from the columns.")
    if not uploads:
        st.caption("Nothing waiting. Drop one or more files above: each shows its detected format and first rows "
                   "before anything is loaded. Files already loaded are recognised and not counted twice.")
        return
    files = staged_files(uploads)
    overrides, invalid = {}, []
    for file_id, item in files.items():
        with st.expander(f"{item['name']} — {svc.size_text(item['size'])}", expanded=len(files) <= 3):
            overrides[file_id], ok = preview(file_id, item)
        if not ok:
            invalid.append(file_id)
    loadable = {k: v for k, v in files.items() if k not in invalid}
    if invalid:
        names = ", ".join(files[k]["name"] for k in invalid)
        st.warning(f"Not loadable as they stand: {names} (see why above). Pick the right format, or remove "
                   "them from the list; the other files load without them.")
    label = f"Load {len(loadable)} file{'s' if len(loadable) != 1 else ''}"
    if st.button(label, type="primary", icon=":material/upload:", key="upload_load", disabled=not loadable):
        load_files(loadable, overrides)


def results_section() -> None:
    results = st.session_state.get(RESULTS_KEY)
    if not results:
        return
    st.subheader("Last load")
    st.caption("One verdict per file, and where each of its dollars went: loaded, already in the ledger, "
               "rejected (each row named), or an earlier export's rows it replaced.")
    for r in results:
        text, level = svc.verdict(r)
        body = f"**{r.path}** — {text}."
        if r.status == "rejected":
            body += f"  \n{r.error}"
        elif r.conservation:
            body += f"  \n{r.conservation}"
        getattr(st, level)(body)
        if r.status == "loaded" and r.ingest_id and (r.rows_rejected or r.rows_warned):
            file_rows(r.ingest_id, r.path, r.rows_rejected, r.rows_warned, key="last")
    df = svc.results_frame(results)
    with st.expander("Details per file"):
        table(df, hide_index=True, width="stretch", column_order=[
            "file", "format", "verdict", "rows_loaded", "rows_duplicate", "rows_rejected", "rows_replaced",
            "rows_warned", "conservation", "rows_per_second"],
            column_config={
                "file": st.column_config.TextColumn("File"),
                "format": st.column_config.TextColumn("Format"),
                "verdict": st.column_config.TextColumn("Verdict", width="medium"),
                "rows_loaded": st.column_config.NumberColumn("Loaded", format="localized"),
                "rows_duplicate": st.column_config.NumberColumn("Already in ledger", format="localized"),
                "rows_rejected": st.column_config.NumberColumn("Rejected", format="localized"),
                "rows_replaced": st.column_config.NumberColumn("Earlier rows replaced", format="localized"),
                "rows_warned": st.column_config.NumberColumn("With a warning", format="localized"),
                "conservation": st.column_config.TextColumn("Where its money went", width="large"),
                "rows_per_second": st.column_config.NumberColumn("Rows/s", format="localized"),
            })
    if st.button("Clear these results", key="upload_clear_results"):
        st.session_state.pop(RESULTS_KEY, None)
        st.rerun()


def file_rows(ingest_id: int, name: str, rejected: int, warned: int, *, key: str) -> None:
    """An upload's rejected rows (not loaded) and its rows loaded with a warning, each with a download."""
    if rejected:
        rej = svc.rejects(run, ingest_id)
        st.markdown(f"{plural(rejected, 'row')} of **{name}** set aside (not loaded):")
        table(rej.head(20), hide_index=True, width="stretch", column_config={
            "row_number": st.column_config.NumberColumn("Row", format="plain"),
            "column_name": "Column", "value": "Value", "reason": st.column_config.TextColumn("Reason", width="large")})
        st.download_button("Download rejected rows (CSV)", exports.to_csv(rej),
                           file_name=f"modelmix-rejects-{ingest_id}.csv", mime="text/csv",
                           key=f"upload_rejects_{key}_{ingest_id}", icon=":material/download:")
    if warned:
        warn = svc.warnings(run, ingest_id)
        st.markdown(f"{plural(warned, 'row')} of **{name}** loaded with a warning (their money counts):")
        table(warn.head(20), hide_index=True, width="stretch", column_config={
            "row_number": st.column_config.NumberColumn("Row", format="plain"),
            "column_name": "Column", "value": "Value",
            "warning": st.column_config.TextColumn("Warning", width="large")})
        st.download_button("Download rows with warnings (CSV)", exports.to_csv(warn),
                           file_name=f"modelmix-warnings-{ingest_id}.csv", mime="text/csv",
                           key=f"upload_warnings_{key}_{ingest_id}", icon=":material/download:")


HISTORY_COLUMNS = {     # the ingest history's columns and widths (px): 936 in all, inside the 940 px the page has
    # in a 1400 px window (978 in 1440), so no column is off the page; a longer file name ends in "…" (its path is in the details)
    "ingest_id": st.column_config.NumberColumn("Id", format="plain", width=44),
    "file_base": st.column_config.TextColumn("File", width=290, help="Pick the upload under the table for its "
                                                                     "full path, format and every row count."),
    "status": st.column_config.TextColumn("Status", width=82),
    "file_cost_usd": st.column_config.NumberColumn("File's cost", format="dollar", width=88,
                                                   help="The file's own total as read, every row"),
    "loaded_cost_usd": st.column_config.NumberColumn("Loaded cost", format="dollar", width=96),
    "rows_loaded": st.column_config.NumberColumn("Rows loaded", format="localized", width=96),
    "rows_rejected": st.column_config.NumberColumn("Rejected", format="localized", width=76),
    "usage": st.column_config.TextColumn("Usage", width=164, help="First and last day of usage in the file"),
}


def history_section() -> None:
    st.subheader("Ingest history")
    df = svc.history(run)
    if df.is_empty():
        st.info("No file has been loaded into this ledger yet. Drop exports above, or run `modelmix ingest FILE`.")
        sql_behind(QUERIES["history"])
        return
    # as wide as the page, never scrolling sideways (its last columns were off the page): what a finance reader
    # ties a file to the ledger with; the format, full path, duplicate, replaced and warned counts are one pick
    # away under "Upload details"
    first, last = pl.col("ts_min"), pl.col("ts_max")
    shown = df.with_columns(
        file_base=pl.col("file_name").str.split("/").list.last(),
        usage=pl.when(first.dt.date() == last.dt.date()).then(last.dt.strftime("%-d %b %Y"))   # as day_span
        .when(first.dt.strftime("%Y%m") == last.dt.strftime("%Y%m"))
        .then(first.dt.strftime("%-d") + "–" + last.dt.strftime("%-d %b %Y"))
        .when(first.dt.year() == last.dt.year())
        .then(first.dt.strftime("%-d %b") + " – " + last.dt.strftime("%-d %b %Y"))
        .otherwise(first.dt.strftime("%-d %b %Y") + " – " + last.dt.strftime("%-d %b %Y")))
    # a light table on a new tab or a menu switch (the grid's JavaScript waits); sort and search on request
    if grid_toggle("upload_history_grid"):
        table(shown, hide_index=True, width="stretch", height=min(38 + 35 * df.height, 390), column_order=list(
            HISTORY_COLUMNS), column_config=HISTORY_COLUMNS)
    else:
        summary_table(shown, height=390, column_order=list(HISTORY_COLUMNS), column_config=HISTORY_COLUMNS,
                      download="ingest-history")
    sql_behind(QUERIES["history"])
    upload_details(df)


def upload_facts(row: dict) -> str:
    """One upload's facts the history table leaves out (so it fits the page): path, format, when, row counts."""
    counts = [(row["rows_loaded"], "loaded"), (row["rows_duplicate"], "already in the ledger"),
              (row["rows_rejected"], "rejected"), (row["rows_warned"], "with a warning"),
              (row["rows_replaced_later"], "replaced later by a newer export of the same days")]
    return (f"`{row['file_name']}` · format **{row['format'] or 'not detected'}** · loaded "
            f"{row['loaded_at']:%Y-%m-%d %H:%M} UTC · rows: "
            + ", ".join(f"{n or 0:,} {what}" for n, what in counts))


def upload_details(history: pl.DataFrame) -> None:
    names = {r["ingest_id"]: f"#{r['ingest_id']} {r['file_name']} ({r['status']})"
             for r in history.iter_rows(named=True)}
    picked = st.selectbox("Upload details", list(names), format_func=names.get, index=None, key="upload_pick",
                          placeholder="Pick an upload to see its rejected rows or remove it")
    if picked is None:
        return
    row = history.filter(pl.col("ingest_id") == picked).row(0, named=True)
    st.caption(upload_facts(row))
    parts = svc.conservation(run, picked)
    if not parts.is_empty():
        st.markdown("**Where its rows and dollars went**")
        table(parts, hide_index=True, width="stretch", column_config={
            "part": "Part", "rows": st.column_config.NumberColumn("Rows", format="localized"),
            "requests": st.column_config.NumberColumn("Requests", format="localized"),
            "cost_usd": st.column_config.NumberColumn("Cost", format="dollar"),
            "tokens": st.column_config.NumberColumn("Tokens", format="localized")})
        took = svc.replaced(run, picked)
        if not took.is_empty():
            st.caption("It replaced rows of earlier uploads: " + "; ".join(
                f"#{t['replaced_ingest_id']} {t['file_name']} ({t['kind']}, {t['day_from']} to {t['day_to']}: "
                f"{t['rows']:,} rows, ${t['cost_usd'] or 0:,.2f})" for t in took.iter_rows(named=True)))
        sql_behind(QUERIES["conservation"])
    left, right = st.columns(2)
    with left:
        if (row["rows_rejected"] or row["rows_warned"]) and row["status"] != "duplicate":
            file_rows(picked, row["file_name"], row["rows_rejected"], row["rows_warned"] or 0, key="history")
            sql_behind(QUERIES["rejects"])
        else:
            st.caption("No rejected or warned rows for this upload.")
    with right:
        if row["status"] != "loaded" or not row["rows_loaded"]:
            st.caption("Nothing to remove: this upload added no rows."
                       if row["status"] != "removed" else "Its rows were removed already.")
        elif st.session_state.get(REMOVE_KEY) != picked:
            if st.button(f"Remove its {row['rows_loaded']:,} rows from the ledger…", key="upload_remove",
                         icon=":material/delete:", disabled=not auth.allows("admin"),
                         help=None if auth.allows("admin") else auth.need_text("admin")):
                st.session_state[REMOVE_KEY] = picked
                st.rerun()
        else:
            st.warning(f"Remove the {row['rows_loaded']:,} rows that **{row['file_name']}** added? Every page "
                       "stops counting them; the history keeps the upload, marked *removed*. Load the file again "
                       "to restore them.")
            yes, no = st.columns(2)
            if yes.button("Yes, remove them", type="primary", key="upload_remove_confirm"):
                auth.require("admin")
                removed = svc.remove(state.warehouse(), picked)
                st.session_state.pop(REMOVE_KEY, None)
                st.session_state.pop(state.DATE_WIDGET_KEY, None)
                st.toast(f"Removed {removed:,} rows of upload #{picked}.")
                st.rerun()
            if no.button("Cancel", key="upload_remove_cancel"):
                st.session_state.pop(REMOVE_KEY, None)
                st.rerun()


def coverage_section(start: dt.date, end: dt.date) -> None:
    st.subheader("Coverage by provider and source")
    st.caption(f"{day_span(start, end)} (the sidebar's range). For each provider and day one source counts "
               "toward spend: billing before gateway telemetry, then one that reports money. Overlapping sources "
               "are kept for reconciliation but not counted twice.")
    cov = svc.coverage(run, start, end)
    if cov.is_empty():
        st.info("No usage in this range. Widen the date range in the sidebar, or load exports above.")
        sql_behind(QUERIES["coverage"])
        return
    grid = svc.coverage_grid(cov, start, end)
    st.vega_lite_chart(upload_charts.coverage_heatmap(grid, svc.COVERAGE_STATES), width="stretch")
    gaps = svc.gap_days(grid)
    if not gaps.is_empty():
        listed = ", ".join(f"{r['provider']} ({r['gap_days']} day{'s' if r['gap_days'] != 1 else ''})"
                           for r in gaps.iter_rows(named=True))
        st.caption(f"**Days without any source** between a provider's first and last day in the range: {listed}. "
                   "Spend on those days is missing unless the provider had no traffic; load the matching exports.")
    over = svc.overlaps(cov)
    if not over.is_empty():
        # built when opened (`on_change="rerun"`): closed, its table of every overlapping row is not drawn
        box = st.expander(f"Overlaps: {over.select('provider', 'day').unique().height:,} provider-days with more "
                          "than one source", key=OVERLAPS_KEY, on_change="rerun")
        if box.open:
            with box:
                overlaps_table(over)
    sql_behind(QUERIES["coverage"])


def overlaps_table(over: pl.DataFrame) -> None:
    """The rows of every provider-day with more than one source, with what counts in spend and in the replay."""
    summary_table(over, download="coverage-overlaps", column_config={
        "day": st.column_config.DateColumn("Day", format="YYYY-MM-DD"),
        "in_spend": st.column_config.CheckboxColumn("Counts in spend"),
        "in_replay": st.column_config.CheckboxColumn("Replayed"),
        "cost_usd": st.column_config.NumberColumn("Cost", format="dollar"),
        "tokens_vs_counted": st.column_config.NumberColumn("Tokens vs counted", format="percent"),
        "cost_vs_counted": st.column_config.NumberColumn("Cost vs counted", format="percent"),
    })


def render() -> None:
    st.title("Upload & data")
    upload_section()
    results_section()
    history_section()
    selected = state.date_range()
    if selected is None:
        st.subheader("Coverage by provider and source")
        st.info("Coverage appears once usage is loaded: load exports above.")
        return
    coverage_section(*selected)


auth.require("analyst")   # the router hides this page from viewers; check again
try:
    render()
except ModelMixError as e:
    st.error(f"**{e.title}** — {e.message}")
