"""`modelmix`: the jobs' interface (docs/design.md, "Command line"). Exit codes: 0 ok, 1 a file/row rejected or an
error, 2 usage error."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import threading
import time
from pathlib import Path

from modelmix.settings import Settings
from modelmix.settings import settings as get_settings
from warehouse.errors import DatabaseBusy, ModelMixError

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def _db(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(args.db) if args.db else settings.db


def _open(args: argparse.Namespace, settings: Settings):
    """The ledger for a command that reads or changes it directly (not the ingest hand-over)."""
    from warehouse import Warehouse

    return Warehouse(_db(args, settings), memory_limit=settings.memory_limit or None)


def _table_style() -> None:
    """Tables on a terminal: every column, wide, without dtype rows."""
    import polars as pl

    pl.Config.set_tbl_cols(-1)
    pl.Config.set_tbl_width_chars(200)
    pl.Config.set_tbl_hide_column_data_types(True)


def _print_result(r: dict) -> None:
    if r["status"] == "rejected":
        msg = r["error"] or "rejected"
        print(f"REJECTED  {msg if msg.startswith(r['path']) else r['path'] + ': ' + msg}", file=sys.stderr)
        return
    line = (f"{r['status']:<9} {r['path']} [{r['format']}]: {r['rows_loaded']:,} loaded, "
            f"{r['rows_duplicate']:,} already in the ledger, {r['rows_rejected']:,} rejected")
    if r.get("rows_replaced"):
        line += f", {r['rows_replaced']:,} earlier rows replaced"
    if r.get("rows_per_second"):
        line += f" ({r['rows_per_second']:,.0f} rows/s)"
    print(line, file=sys.stderr)
    if r.get("conservation"):   # every dollar of the file: loaded, already there, rejected, what it replaced
        print(f"          {r['conservation']}", file=sys.stderr)
    if r.get("rows_warned"):
        print(f"          {r['rows_warned']:,} row(s) loaded with a warning (see the Upload page or "
              "`modelmix verify`)", file=sys.stderr)
    if r.get("error"):      # the rows set aside: file, row, column, reason
        print(f"          {r['error']}", file=sys.stderr)


class _Ticker:
    """On a terminal, a line that shows a long load is alive (elapsed seconds), cleared when it ends."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.enabled = sys.stderr.isatty()

    def __enter__(self) -> _Ticker:
        self._start = time.monotonic()
        if self.enabled:
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            print(f"\r  loading… {time.monotonic() - self._start:,.0f} s", end="", file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.enabled:
            print("\r" + " " * 30 + "\r", end="", file=sys.stderr, flush=True)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest import ingest_paths

    db = _db(args, settings)
    mapped = None
    if args.mapping:
        from ingest.formats.mapped import MappingError, load_mapping

        if args.format:
            print("modelmix ingest: give --format or --mapping, not both", file=sys.stderr)
            return 2
        try:
            mapped = load_mapping(args.mapping)
        except MappingError as e:
            print(f"modelmix ingest: {e.message}", file=sys.stderr)
            return 2
    if args.format:
        from ingest.formats import FORMATS

        if args.format not in FORMATS:
            print(f"modelmix ingest: unknown --format {args.format!r}; see `modelmix formats`", file=sys.stderr)
            return 2
    try:
        from modelmix.runtime import open_owner

        wh = open_owner(db, settings, watch_inbox=False)
    except DatabaseBusy:
        wh = None
    if wh is None and mapped is not None:
        raise ModelMixError(f"{db} is open in the dashboard; --mapping files can only be loaded by the process "
                            "that owns the ledger: stop the dashboard, or load them there", title="Ledger busy")
    if wh is None:
        files = _hand_over(db, args, settings)
    else:
        with wh, _Ticker():
            results = ingest_paths(wh, args.paths, format_id=args.format, strict=args.strict,
                                   max_unzipped_bytes=settings.max_unzipped_bytes, fmt=mapped)
        files = [{**r.to_json(), "rows_per_second": r.rows_per_second} for r in results]
    if args.json:
        print(json.dumps({"files": [{k: v for k, v in f.items() if k != "rows_per_second"} for f in files]},
                         indent=2))
    else:
        for f in files:
            _print_result(f)
    bad = any(f["status"] == "rejected" or f["rows_rejected"] for f in files)
    return 1 if bad or not files else 0


def _hand_over(db: Path, args: argparse.Namespace, settings: Settings) -> list[dict]:
    """The database is held by the dashboard: give it the files through the inbox and wait for its answer."""
    from ingest.read import list_files
    from warehouse.errors import IngestError
    from warehouse.inbox import hand_over

    files: list[Path] = []
    for p in map(Path, args.paths):
        try:
            files += list_files(p)
        except IngestError as e:
            raise ModelMixError(e.message, title="File not found") from None
    print(f"{db} is open in the dashboard; handing {len(files)} file(s) to it…", file=sys.stderr)
    answer = hand_over(db, files, {"format": args.format, "strict": args.strict},
                       timeout=settings.inbox_timeout_seconds)
    if answer.get("error"):
        raise ModelMixError(answer["error"], title="The dashboard could not load the files")
    return answer["files"]


def cmd_prices(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse import prices

    _table_style()

    with _open(args, settings) as wh:
        if args.unpriced:
            frame = wh.query("unpriced_models", start=dt.date(1970, 1, 1), end=dt.date(9999, 12, 31))
            if frame.is_empty():
                print("Every model in the ledger has a price.")
                return 0
            print(frame.write_csv() if args.csv else frame)
            return 0
        if not args.model:
            print("modelmix prices: give a MODEL, or --unpriced", file=sys.stderr)
            return 2
        on = args.date or dt.date.today()
        _, catalog_model = prices.resolve(args.provider or "", args.model)
        frame = prices.price_in_force(wh, catalog_model or args.model, on, provider=args.provider)
        if frame.is_empty():
            print(f"No price for {args.model!r} on {on}: it is unpriced (add an override).")
            return 1
        print(f"Prices in force for {args.model} on {on} (USD per 1M tokens):")
        print(frame.write_csv() if args.csv else frame)
        return 0


def cmd_formats(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.formats import FORMATS

    for f in FORMATS.values():
        print(f"{f.id:<24} {f.kind:<10} {'/'.join(f.containers):<14} {f.reads}")
    print(f"{'mapped-csv':<24} {'telemetry':<10} {'csv/parquet/json':<14} any CSV, Parquet, JSON or JSON lines with "
          "a YAML mapping file "
          "(`modelmix ingest FILE --mapping MAP.yaml`; never detected; see docs/formats.md)")
    return 0


# the ledger's configuration tables a file can replace: what it holds, how the file is read and saved, and the
# named query that lists the table
CONFIG_TABLES = {
    "rules": ("attribution rule(s)", "load_rules_file", "replace_rules", "attribution_rules"),
    "overrides": ("price override(s)", "load_overrides_file", "replace_overrides", "price_overrides"),
    "aliases": ("model alias(es)", "load_aliases_file", "replace_aliases", "model_aliases"),
}


def cmd_config_table(args: argparse.Namespace, settings: Settings) -> int:
    """`modelmix rules|overrides|aliases [FILE]`: replace the table from FILE (validated first), then show it."""
    from warehouse import config

    noun, load, replace, listing = CONFIG_TABLES[args.command]
    with _open(args, settings) as wh:
        if args.file:
            items = getattr(config, load)(args.file)
            getattr(config, replace)(wh, items)
            print(f"{len(items)} {noun} loaded from {args.file}")
        print(wh.query(listing))
    return 0


def cmd_sample(args: argparse.Namespace, settings: Settings) -> int:
    from cli import sample

    sample.main_sample(rows=args.rows, out=Path(args.out), seed=args.seed)
    return 0


def _parse_sweep(text: str, scenario) -> tuple[int, str, list[float]]:
    """`[N.]PARAM=START:STOP:STEP` -> (policy index, parameter, grid). PARAM is share, escalation_rate or
    hit_rate; without N, the first policy that has it."""
    import numpy as np

    from simulate.spec import ScenarioError

    try:
        lhs, rng = text.split("=", 1)
        start, stop, step = (float(x) for x in rng.split(":"))
        index_text, _, param = lhs.rpartition(".")
    except ValueError:
        raise ScenarioError(f"--sweep {text!r}: expected [N.]PARAM=START:STOP:STEP, e.g. share=0:1:0.05") from None
    kinds = {"share": ("shift", "batch"), "escalation_rate": ("cascade",), "hit_rate": ("cache",)}
    if param not in kinds or step <= 0 or stop < start:
        raise ScenarioError(f"--sweep {text!r}: PARAM is one of {', '.join(kinds)}, and START <= STOP, STEP > 0")
    candidates = [i for i, pol in enumerate(scenario.policies) if pol.kind in kinds[param]]
    index = int(index_text) if index_text else (candidates[0] if candidates else -1)
    if index not in candidates:
        raise ScenarioError(f"--sweep {text!r}: no {'/'.join(kinds[param])} policy"
                            + (f" at policies.{index}" if index_text else " in the scenario"))
    grid = np.round(np.arange(start, stop + step / 2, step), 10)
    return index, param, [float(x) for x in grid]


def _scenario_with_files(args: argparse.Namespace):
    """The scenario of `simulate` with its --scores router scores (added before it validates: a `pick: score`
    policy needs them) and its --shadow grades."""
    import simulate
    from simulate import router, shadow

    extra = {"router_scores": router.scores_data(router.load(args.scores), args.router)} if args.scores else None
    scenario = simulate.load_scenario(args.scenario, extra)
    if args.shadow:
        scenario = shadow.with_shadow(scenario, shadow.load(args.shadow))
    if args.unit or args.cache_on_switch:
        scenario = scenario.with_conversations(unit=args.unit, cache_on_switch=args.cache_on_switch)
    return scenario


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    import simulate
    from simulate import frontier, report
    from simulate.spec import ScenarioError

    scenario = _scenario_with_files(args)
    if args.engine == "spark":
        from simulate import replay
        from warehouse.spark import SparkLake

        if not args.lake:
            raise SystemExit("simulate --engine spark needs --lake DIR (write one with `modelmix lake export DIR`)")
        if args.sweep:
            raise SystemExit("--sweep runs on DuckDB only (the slider tables are local); drop --engine spark")
        if args.oracle:
            raise SystemExit("--oracle runs on DuckDB only (the slider tables are local); drop --engine spark")
        with SparkLake(args.lake, master=args.spark_master) as lake:
            result = replay.run_on(lake, scenario)
    else:
        with _open(args, settings) as wh:
            if args.sweep:
                index, param, grid = _parse_sweep(args.sweep, scenario)
                frame = frontier.sweep(wh, scenario, index, grid)
                if args.seeds:
                    import polars as pl

                    band = frontier.seed_band(wh, scenario, index, seeds=args.seeds, grid=grid)
                    frame = frame.join(band.drop("share").with_columns(pl.Series("share", grid)), on="share",
                                       how="left")
                _table_style()
                print(json.dumps({"policy": index, "param": param, "points": frame.to_dicts()}, indent=2,
                                 default=str) if args.json else frame)
                return 0
            if args.oracle:
                ranked = [i for i, p in enumerate(scenario.policies) if p.ranked]
                if not ranked:
                    raise ScenarioError(f"{args.scenario}: --oracle needs a shift or batch policy (a share to rank)")
                rep = frontier.router_report(wh, scenario, ranked[-1])
                if args.json:
                    print(json.dumps({"policy": ranked[-1], **rep.to_json()}, indent=2, default=str))
                else:
                    print(f"source (share 0) quality {rep.strong_quality:.4f}, all moved {rep.weak_quality:.4f}")
                    if rep.bound == "conversations":
                        print("oracle: the exact bound over each conversation's requests (they pay for each other's "
                              "lost cache): exact at its vertices, no RouteLLM metrics")
                    for name, m in rep.metrics.items():
                        shown = ", ".join(f"{k} {'-' if v is None else f'{v:.4f}'}" for k, v in m.items())
                        print(f"  {name:<7} {shown}")
                return 0
            result = simulate.run(wh, scenario)
    if args.strict and result.warnings:
        raise ScenarioError(f"{args.scenario}: " + "; ".join(result.warnings), title="Scenario warnings (--strict)")
    print(json.dumps(result.to_json(), indent=2, default=str) if args.json else result.summary_text())
    for w in result.warnings if not args.json else ():
        print(f"warning: {w}", file=sys.stderr)
    if args.report:
        Path(args.report).write_text(report.result_markdown(scenario, result), encoding="utf-8")
        print(f"wrote {args.report}", file=sys.stderr)
    return 0


def cmd_outlook(args: argparse.Namespace, settings: Settings) -> int:
    import simulate
    from simulate import outlook

    scenario = simulate.load_scenario(args.scenario)
    with _open(args, settings) as wh:
        o = outlook.outlook(wh, scenario, outlook.Assumptions(months=args.months, seed=args.seed))
        bridge = simulate.spend_bridge(wh, scenario)
    if args.json:
        print(json.dumps({"scenario": scenario.name, "months": args.months, "totals": o.totals,
                          "assumptions": outlook.assumption_table(o), "history_spend_bridge": bridge.to_dict(),
                          "monthly": o.frame.to_dicts()}, indent=2, default=str))
        return 0
    print(f"Outlook for {scenario.name} over {args.months} months (USD, P10 / P50 / P90):")
    for series, t in o.totals.items():
        print(f"  {series:<9} " + " / ".join(f"${t[k]:,.0f}" for k in sorted(t)))
    for a in outlook.assumption_table(o):
        print(f"  {a['assumption']}: {a['value']}")
    print(f"The projection starts from the replay baseline of the history ({bridge.first_day} to {bridge.last_day}), "
          "from spend:")
    print("\n".join(bridge.lines()))
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from finance import jobs as finance_jobs

    with _open(args, settings) as wh:
        out = finance_jobs.report(wh, args.month, args.format, Path(args.out))
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_focus_check(args: argparse.Namespace, settings: Settings) -> int:
    """Row checks of a FOCUS cost-and-usage CSV written from the spec (finance/focus_check.py); exit 1 on any."""
    from finance import focus_check

    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    found = focus_check.violations(path)
    if args.json:
        print(json.dumps({"file": str(path), "violations": found.to_dicts()}, indent=2))
    else:
        for r in found.iter_rows(named=True):
            where = f"row {r['row']}, " if r["row"] else ""
            print(f"{path}: {where}column {r['column']}: {r['rule']}" + (f" ({r['value']!r})" if r["value"] else ""))
        print(f"{path}: {found.height:,} violation(s) of the FOCUS rules checked" if found.height
              else f"{path}: passes the FOCUS rules checked")
    return 1 if found.height else 0


def cmd_alerts(args: argparse.Namespace, settings: Settings) -> int:
    from finance import jobs as finance_jobs

    with _open(args, settings) as wh:
        found = finance_jobs.alerts(wh)
    if args.json:
        print(json.dumps({"alerts": found}, indent=2, default=str))
    else:
        for a in found:
            print(f"[{a['severity']}] {a['title']}: {a['message']}")
        if not found:
            print("No open alerts.")
    return 1 if found else 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse import checks

    with _open(args, settings) as wh:
        results = checks.run_all(wh)
    failed = [r for r in results if not r.ok]
    if args.json:
        print(json.dumps({"checks": [{"name": r.name, "ok": r.ok, "violations": r.bad.height,
                                      "rows": r.bad.head(20).to_dicts()} for r in results]}, indent=2, default=str))
    else:
        for r in results:
            print(f"{'ok  ' if r.ok else 'FAIL'} {r.name.removeprefix('checks/')}: {r.purpose}")
            if not r.ok:
                print(f"     {r.bad.height:,} violation(s):\n{r.bad.head(10)}")
        print(f"{len(results) - len(failed)} of {len(results)} checks passed")
    return 1 if failed else 0


def cmd_budgets(args: argparse.Namespace, settings: Settings) -> int:
    from finance import budgets

    with _open(args, settings) as wh:
        if args.file:
            print(f"{budgets.load_budgets(wh, args.file)} budget(s) loaded from {args.file}")
        print(budgets.budgets(wh))
    return 0


def cmd_subscriptions(args: argparse.Namespace, settings: Settings) -> int:
    from finance import seat_export, whole_bill

    if args.mapping and not args.file:
        print("modelmix subscriptions: --mapping reads a vendor's seat export: give the FILE too", file=sys.stderr)
        return 2
    # a vendor's seat export through its mapping: every row checked before the ledger is opened
    lines = seat_export.load(args.file, args.mapping) if args.mapping else None
    with _open(args, settings) as wh:
        if lines is not None:
            n = whole_bill.replace_subscription_lines(wh, lines)
            print(f"{n} subscription line(s) loaded from {args.file} ({lines['seats'].sum():,} seats) through "
                  f"{args.mapping}")
        elif args.file:
            n = whole_bill.replace_subscriptions(wh, whole_bill.load_subscriptions_file(args.file))
            print(f"{n} subscription line(s) loaded from {args.file}")
        print(whole_bill.subscriptions(wh))
    return 0


def cmd_self_hosted(args: argparse.Namespace, settings: Settings) -> int:
    from finance import whole_bill

    with _open(args, settings) as wh:
        if args.file:
            n = whole_bill.replace_self_hosted(wh, whole_bill.load_self_hosted_file(args.file))
            print(f"{n} self-hosted cost line(s) loaded from {args.file}; the ledger is re-priced")
        rec = whole_bill.reconcile(wh)
        if args.json:
            print(json.dumps({"periods": rec.to_dicts()}, indent=2, default=str))
            return 0
        if rec.is_empty():
            print("No self-hosted cost lines. Load a file: modelmix self-hosted FILE")
        # the price a What-if target replays at: the ledger's own (a user override wins over the cost file)
        priced = {(t["provider"], t["model"], t["start_date"]): t for t in whole_bill.targets(wh)}
        for r in rec.iter_rows(named=True):
            rate = "no tokens logged" if r["usd_per_mtok"] is None else f"${float(r['usd_per_mtok']):,.4f} per 1M tokens"
            print(f"{r['provider']}/{r['model']} {r['start_date']}..{r['end_date']}: ${float(r['cost_usd']):,.2f} over "
                  f"{r['tokens']:,} tokens = {rate}; priced ${float(r['priced_usd']):,.2f}, residual "
                  f"${float(r['residual_usd']):,.2f}" + (" (a price override wins)" if r["overridden"] else ""))
            t = priced.get((r["provider"], r["model"], r["start_date"]))
            if t is not None:
                p = t["prices"]
                print(f"  What-if target: to: self-hosted:{r['model']} (priced as the ledger prices it on each "
                      f"request's day; here {t['priced_by']}: input {p['input']:.6g}, output {p['output']:.6g} per "
                      "1M tokens)")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.backup import backup

    with _open(args, settings) as wh:
        manifest = backup(wh, args.folder)
    rows = manifest["tables"]
    print(f"backed up {_db(args, settings)} to {args.folder}: {len(rows)} tables, "
          f"{rows.get('usage_raw', 0):,} usage rows, {rows.get('ingest_log', 0):,} ingest_log rows", file=sys.stderr)
    return 0


# why an export compared every partition priced (warehouse/lake.py)
REPRICED = "; prices, rules or aliases changed since the last export (or a first export): every partition compared"


def cmd_lake(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse import lake

    with _open(args, settings) as wh:
        done = lake.export(wh, args.folder)
    if args.json:
        print(json.dumps(done, indent=2))
    else:
        print(f"lake {done['folder']}: {done['partitions']} partitions (month x provider), {len(done['written'])} "
              f"written ({done['rows_written']:,} rows), {done['kept']} unchanged, {len(done['deleted'])} deleted; "
              f"usage_daily: {len(done['daily_months_written'])} month(s) written"
              f"{REPRICED if done['repriced'] else ''}, "
              f"in {done['seconds']:.1f} s", file=sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.backup import restore

    manifest = restore(args.folder, _db(args, settings), force=args.force)
    print(f"restored {_db(args, settings)} from {args.folder} (backup of {manifest['created_at']}): "
          f"{manifest['tables'].get('usage_raw', 0):,} usage rows", file=sys.stderr)
    return 0


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    """`modelmix users list|add|remove`: who may sign in to the dashboard, as what (recorded in the audit log).
    While the dashboard holds the ledger, the change goes to it through the inbox, like `modelmix ingest`."""
    import polars as pl

    from warehouse import users

    _table_style()
    try:
        wh = _open(args, settings)
    except DatabaseBusy:
        frame = _users_hand_over(args, settings)
    else:
        with wh:
            if args.action == "add":
                users.save(wh, args.email, args.role, args.team or None)
            elif args.action == "remove":
                users.remove(wh, args.email)
            frame = users.list_users(wh)
    if args.action == "add":
        u = users.user(args.email, args.role, args.team or None)
        print(f"{u.email}: {u.role}" + (f", teams {', '.join(u.teams)}" if u.teams else ""), file=sys.stderr)
    elif args.action == "remove":
        print(f"removed {args.email.strip().lower()}", file=sys.stderr)
    if frame.is_empty():
        print("No users: the dashboard admits only emails in MODELMIX_ADMINS or with a role claim. Add one with "
              "`modelmix users add EMAIL --role admin`.")
    else:
        print(frame.with_columns(pl.col("teams").list.join(", ")))
    return 0


def _users_hand_over(args: argparse.Namespace, settings: Settings):
    """The dashboard holds the ledger: it makes the change (audited as this process's user) and sends the table."""
    import polars as pl

    from warehouse import users
    from warehouse.inbox import hand_over

    db = _db(args, settings)
    if args.action == "add":
        users.user(args.email, args.role, args.team or None)      # a bad email or role is refused here, at once
    print(f"{db} is open in the dashboard; handing the change to it…", file=sys.stderr)
    answer = hand_over(db, [], {"users": {"action": args.action, "email": getattr(args, "email", None),
                                          "role": getattr(args, "role", None), "teams": getattr(args, "team", None)}},
                       timeout=settings.inbox_timeout_seconds)
    if answer.get("error"):
        raise ModelMixError(answer["error"], title=answer.get("title") or "The dashboard could not change the users")
    schema = {"email": pl.String, "role": pl.String, "teams": pl.List(pl.String), "added_at": pl.String,
              "added_by": pl.String}
    return pl.DataFrame(answer["users"], schema=schema)


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """`modelmix audit`: the audit log (who, when, what), newest first; `--csv FILE` writes it for a spreadsheet."""
    import csv

    from warehouse.spreadsheet import neutralise
    from warehouse import users

    with _open(args, settings) as wh:
        frame = users.audit_log(wh, start=args.since, end=args.until, actor=args.actor, action=args.action)
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(frame.columns)
            # a cell a spreadsheet would run as a formula (= + - @ first) gets a leading quote
            out.writerows([neutralise(v) if isinstance(v, str) else v for v in row] for row in frame.iter_rows())
        print(f"wrote {frame.height:,} audit row(s) to {args.csv}", file=sys.stderr)
        return 0
    if frame.is_empty():
        print("No audit rows match.")
        return 0
    _table_style()
    print(frame)
    return 0


# What each session's rerun costs the server, beside the page itself (docs/reliability.md, "Many people at once";
# measured with bench/load.py's protocol clients, 5 sessions on a 26 k-row ledger): Streamlit's file watcher
# (a source watcher per session, re-registering every imported module's file after each run and polling them:
# 319 -> 164 ms of server CPU a step without it) and a full `gc.collect(2)` after every script run (another
# ~100 ms a run over this process's heap of polars, pyarrow, DuckDB and Streamlit objects: 144-170 -> 51-71 ms a
# step without it, the same resident memory after the run). A served dashboard's code does not change under it,
# and Python's own collector still runs by its thresholds.
#
# And no ForwardMsg sent as a reference to the browser's message cache (Streamlit sends an element of 10 KB or more
# as its hash when the rerun request listed that hash as cached). Under load the browser can drop the message
# between listing it and receiving the reference (its cache ages entries per finished run, and fragment runs
# and queued reruns interleave); the frontend then stops for good with "Connection error … Cached ForwardMsg
# MISS" and answers nothing more, reloading aside (bench/load.py, 10 sessions beside a 1 M-row ingest: 1 and 2
# of the level's browser sessions lost this way in two runs). With no message cacheable every element is sent whole: a few more bytes per
# rerun, the same serialisation (Streamlit serialises each message to hash it either way).
NO_MESSAGE_CACHE = ("--global.minCachedMessageSize", "1e18")
SERVE_RUNTIME_OPTIONS = ("--server.fileWatcherType", "none", "--runner.postScriptGC", "false", *NO_MESSAGE_CACHE)


def serve_command(db: Path, port: str, settings: Settings) -> list[str]:
    """The `streamlit run` command line of `modelmix serve`."""
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", port,
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            # "none": a short message in the browser, the traceback only in the server log ("false" still shows it)
            "--client.showErrorDetails", "none",
            # Streamlit's own cap (MB) no lower than ours; the upload service enforces the exact byte limit
            "--server.maxUploadSize", str(-(-settings.max_upload_bytes // 2**20)),
            *SERVE_RUNTIME_OPTIONS]


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """The dashboard, in this process: `modelmix serve` becomes the Streamlit server (exec, same process id), so
    a SIGTERM from `kill`, a supervisor or a test harness reaches the server itself, which stops and releases
    the port and the ledger. (A wrapper waiting on a child server died alone on SIGTERM and left the server
    running as an orphan holding both.)"""
    db = str(_db(args, settings).resolve())
    port = str(args.port or settings.port)
    cmd = serve_command(Path(db), port, settings)
    print(f"ModelMix on http://localhost:{port} (ledger {db})", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    # from the repository root so .streamlit/config.toml (theme, toolbar) applies wherever we were started
    os.chdir(APP.parent.parent)
    os.execve(sys.executable, cmd, {**os.environ, "MODELMIX_DB": db})
    return 0   # not reached: exec replaced this process


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="modelmix", description="AI spend ledger and routing simulator")
    sub = p.add_subparsers(dest="command", required=True)

    def with_db(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument("--db", help="ledger file (default: $MODELMIX_DB, else modelmix.duckdb)")
        return sp

    sp = with_db(sub.add_parser("ingest", help="load usage/cost export files"))
    sp.add_argument("paths", nargs="+", metavar="PATH")
    sp.add_argument("--format", help="skip detection: a format id from `modelmix formats`")
    sp.add_argument("--mapping", metavar="FILE", help="a YAML mapping file: read any CSV as mapped-csv "
                    "(see docs/formats.md)")
    sp.add_argument("--json", action="store_true", help="print one JSON object with a result per file")
    sp.add_argument("--strict", action="store_true", help="reject a whole file if any row fails validation")
    sp.set_defaults(fn=cmd_ingest)

    sp = with_db(sub.add_parser("simulate", help="replay the ledger under a routing scenario"))
    sp.add_argument("scenario", help="a scenario file (YAML/JSON) or a preset name")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--sweep", metavar="[N.]PARAM=START:STOP:STEP",
                    help="cost and quality over a grid of one policy's share, escalation_rate or hit_rate")
    sp.add_argument("--report", metavar="FILE", help="also write a Markdown report of the result")
    sp.add_argument("--strict", action="store_true", help="fail on a warning (a `match.models` naming no model "
                    "with rows in the period and scope)")
    sp.add_argument("--scores", metavar="FILE", help="a router's scores per request (request_id,score[,router,"
                    "provider]; CSV/JSON/YAML) for policies with `pick: score`: the lowest-scored requests move first")
    sp.add_argument("--seeds", type=int, metavar="N", help="with --sweep of a `pick: random` share: the savings "
                    "and quality band over seeds 0..N-1 (min, p10, p50, p90, max per grid point)")
    sp.add_argument("--router", metavar="NAME", help="the router to use when the --scores file holds several")
    sp.add_argument("--oracle", action="store_true", help="the oracle bound, the random line and the last ranked "
                    "policy's curve with RouteLLM's metrics (APGR, CPT(50%%), CPT(80%%), share moved at 95%% "
                    "quality); with --json every curve (<= 201 points each)")
    sp.add_argument("--shadow", metavar="FILE", help="a shadow-evaluation file (CSV/JSON/YAML): grades per request "
                    "(request_id, model, score[, provider]) or per workload × model (workload, model, score); "
                    "measured quality replaces the priors where it covers (docs/simulation.md)")
    sp.add_argument("--unit", choices=("request", "session"), help="what every shift and batch pick moves: single "
                    "requests, or whole conversations (the source's session id; a row without one is its own unit); "
                    "default: as the scenario says (request)")
    sp.add_argument("--cache-on-switch", choices=("lost", "kept"), help="a moved request's cache reads: lost (the "
                    "target's input price, its conversation's first moved request a cache write, unless the whole "
                    "conversation moved; the default) or kept (the target's cache-read price)")
    sp.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                    help="spark: run the same replay SQL on Spark over a lake (docs/scale-out.md)")
    sp.add_argument("--lake", metavar="DIR", help="the lake `modelmix lake export` wrote (with --engine spark)")
    sp.add_argument("--spark-master", default="local[2]",
                    help="Spark master: local[N] (default local[2]) or a Spark Connect URL sc://host:15002")
    sp.set_defaults(fn=cmd_simulate)

    sp = with_db(sub.add_parser("outlook", help="project a scenario's spend month by month (P10/P50/P90)"))
    sp.add_argument("scenario", help="a scenario file (YAML/JSON) or a preset name")
    sp.add_argument("--months", type=int, default=18)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(fn=cmd_outlook)

    sp = with_db(sub.add_parser("serve", help="start the dashboard"))
    sp.add_argument("--port", type=int)
    sp.set_defaults(fn=cmd_serve)

    sp = with_db(sub.add_parser("prices", help="the price in force for a model, or the unpriced models"))
    sp.add_argument("model", nargs="?")
    sp.add_argument("--provider", help="ModelMix provider id (openai, anthropic, aws-bedrock, …)")
    sp.add_argument("--date", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: today)")
    sp.add_argument("--unpriced", action="store_true", help="list models in the ledger without a price")
    sp.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    sp.set_defaults(fn=cmd_prices)

    sp = with_db(sub.add_parser("report", help="a month's chargeback statement or FOCUS file (1.2 with the 1.5 draft's AI columns)"))
    sp.add_argument("--month", required=True, help="YYYY-MM")
    sp.add_argument("--format", required=True, choices=("csv", "xlsx", "focus"))
    sp.add_argument("--out", required=True, help="the file to write")
    sp.set_defaults(fn=cmd_report)

    sp = sub.add_parser("focus-check", help="check a FOCUS cost-and-usage CSV against the spec's row rules "
                                            "(exit 1 on any violation)")
    sp.add_argument("file")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(fn=cmd_focus_check)

    sp = with_db(sub.add_parser("alerts", help="budget, anomaly and regression alerts (exit 1 when there are any)"))
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(fn=cmd_alerts)

    sp = with_db(sub.add_parser("verify", help="run every data check on the ledger (exit 1 on any violation)"))
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(fn=cmd_verify)

    sp = with_db(sub.add_parser("budgets", help="show budgets, or replace them from a YAML/CSV file"))
    sp.add_argument("file", nargs="?")
    sp.set_defaults(fn=cmd_budgets)

    sp = with_db(sub.add_parser("subscriptions", help="show seats and subscriptions, or replace them from a YAML/CSV "
                                                      "file, or from a vendor's seat export with --mapping"))
    sp.add_argument("file", nargs="?")
    sp.add_argument("--mapping", metavar="FILE", help="a seat_mapping YAML: read FILE as a vendor's seat or licence "
                    "export with its own column names (docs/finance.md, 'Seat exports')")
    sp.set_defaults(fn=cmd_subscriptions)

    sp = with_db(sub.add_parser("self-hosted", help="show self-hosted inference costs and their effective $/1M "
                                                    "tokens, or replace them from a YAML/CSV file"))
    sp.add_argument("file", nargs="?")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(fn=cmd_self_hosted)

    sp = with_db(sub.add_parser("backup", help="write the whole ledger to a new folder (EXPORT DATABASE)"))
    sp.add_argument("folder", metavar="DIR")
    sp.set_defaults(fn=cmd_backup)

    sp = sub.add_parser("lake", help="the ledger's rows as Hive-partitioned Parquet for Spark (docs/scale-out.md)")
    lake_sub = sp.add_subparsers(dest="action", required=True)
    ex = with_db(lake_sub.add_parser("export", help="write or bring up to date DIR (only changed partitions)"))
    ex.add_argument("folder", metavar="DIR")
    ex.add_argument("--json", action="store_true", help="print what was written as JSON")
    ex.set_defaults(fn=cmd_lake)

    sp = with_db(sub.add_parser("restore", help="rebuild the ledger from a backup folder"))
    sp.add_argument("folder", metavar="DIR")
    sp.add_argument("--force", action="store_true", help="replace a ledger that already holds data")
    sp.set_defaults(fn=cmd_restore)

    sp = sub.add_parser("users", help="who may sign in to the dashboard: list, add or change, remove")
    users_sub = sp.add_subparsers(dest="action", required=True)
    listing = with_db(users_sub.add_parser("list", help="every user with role and teams"))
    add = with_db(users_sub.add_parser("add", help="add a user, or change one's role and teams"))
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=("viewer", "analyst", "admin"))
    add.add_argument("--team", action="append", metavar="TEAM",
                     help="restrict a viewer to this team's spend (repeat for several; none: every team)")
    rm = with_db(users_sub.add_parser("remove", help="remove a user"))
    rm.add_argument("email")
    for p_ in (listing, add, rm):
        p_.set_defaults(fn=cmd_users)

    sp = with_db(sub.add_parser("audit", help="the audit log: uploads, removals, edits, user changes, sign-ins"))
    sp.add_argument("--since", type=dt.date.fromisoformat, metavar="YYYY-MM-DD", help="from this day (UTC)")
    sp.add_argument("--until", type=dt.date.fromisoformat, metavar="YYYY-MM-DD", help="to this day, inclusive")
    sp.add_argument("--actor", help="only what this person (email, `local`, `cli:<user>`) did")
    sp.add_argument("--action", help="only this action (sign_in, ingest, remove_upload, prices_edit, …)")
    sp.add_argument("--csv", metavar="FILE", help="write CSV to FILE (formula-like cells neutralised)")
    sp.set_defaults(fn=cmd_audit)

    sp = sub.add_parser("formats", help="list the input formats")
    sp.set_defaults(fn=cmd_formats)

    sp = with_db(sub.add_parser("rules", help="show attribution rules, or replace them from a YAML file"))
    sp.add_argument("file", nargs="?")
    sp.set_defaults(fn=cmd_config_table)

    sp = with_db(sub.add_parser("overrides", help="show price overrides, or replace them from a YAML/CSV file"))
    sp.add_argument("file", nargs="?")
    sp.set_defaults(fn=cmd_config_table)

    sp = with_db(sub.add_parser("aliases", help="show model-name aliases, or replace them from a YAML file"))
    sp.add_argument("file", nargs="?")
    sp.set_defaults(fn=cmd_config_table)

    from cli import pull as pull_cli

    pull_cli.add_parsers(sub, with_db)  # `pull` and `jobs`

    sp = sub.add_parser("sample", help="generate a seeded synthetic year of traffic")
    sp.add_argument("--rows", type=int, default=100_000)
    sp.add_argument("--out", required=True)
    sp.add_argument("--seed", type=int, default=7)
    sp.set_defaults(fn=cmd_sample)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    try:
        return args.fn(args, settings)
    except ModelMixError as e:
        print(f"{e.title}: {e.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
