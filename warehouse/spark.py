"""Spark engine: the same SQL files as DuckDB, transpiled with sqlglot, over a lake (warehouse/lake.py).

`SparkLake(folder, master)` opens a Spark session (local mode, `local[N]`; a cluster through a Spark Connect
URL `sc://host:15002`) and registers the lake as the relations the ledger's SQL reads: `usage_keyed`, `usage`,
`usage_replay` and `replay_stored` (the rows with `in_replay`) and the small tables of `lake.TABLES`.
`SparkLake.sql(text, **params)` has `Warehouse.sql`'s signature and returns a polars frame, so `simulate.replay.run_on(lake,
scenario)` runs the simulator's own query text (sql/simulate/*.sql filled by simulate/plan.py) on Spark, and
`SparkLake.query(name)` runs a `sql/queries` file. There is no second, hand-written copy of any query.

How a DuckDB text becomes Spark SQL (`to_spark`), each step a rewrite of the parsed tree, never of the text:

- bound values (`$name`) become literals of the same type (Spark's own parameter markers cannot carry lists);
- a select of nothing but `unnest(cast($list as T[]))` columns (the replay's bound tables: quality scores, row
  models, grades) becomes a VALUES table, since Spark allows one generator per select;
- `hash(...)` of the replay's row columns becomes the lake's `row_hash` column (DuckDB's 64-bit hash, exported
  as a signed bigint whose order is the hash's order), `hash(session_id)` (a session unit's conversation key) the
  lake's `session_hash` (the same form); a random pick's `hash(xor(row_hash or unit_key, seed mix))` becomes
  DuckDB's hash function written in Spark arithmetic (murmur64 mix, 64-bit wrapping: ANSI mode off), so a random
  pick chooses the same requests or conversations;
- `row_number() over ()` (the replay's tie-break id of a materialised CTE, which Spark would compute twice) becomes
  the row's natural key `row_key`, carried from `usage_replay` / `replay_stored`;
- what has no Spark form raises `SparkUnsupported` naming the query file and the construct: an ASOF join (policies
  priced at each row's own catalog rates, e.g. `cache`), a `uhugeint` (per-request grades), QUALIFY.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.eliminate_ctes import eliminate_ctes

import sql
from warehouse.errors import ModelMixError
from warehouse.lake import MANIFEST, PARTITIONED_TABLE, TABLES

# -2^63 written so that Spark reads a bigint (the literal -9223372036854775808 would be minus a DECIMAL(19, 0))
MIN_LONG = "shiftleft(cast(1 as bigint), 63)"
_MIX = str(0xD6E8FEB86659FD93 - 2**64)   # DuckDB's murmur64 multiplier as a signed 64-bit integer


class SparkUnsupported(ModelMixError):
    title = "Not supported on Spark"


class SparkError(ModelMixError):
    title = "Spark query failed"


def _name(text: Any) -> str:
    """The query's file name (sql.Text remembers it) or its first header line."""
    for attr in ("origin",):
        value = getattr(text, attr, None)
        if value:
            return str(value)
    m = re.match(r"\s*--\s*([\w/]+)", str(text))
    return m.group(1) if m else "query"


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float, Decimal)):
        return exp.Literal.number(repr(float(value)) if isinstance(value, float) else str(value))
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "timestamp")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "date")
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[_literal(v) for v in value])
    raise SparkUnsupported(f"a bound value of type {type(value).__name__} has no Spark literal")


def _param_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Parameter):
        inner = node.this
        return inner.name if isinstance(inner, exp.Expression) else str(inner)
    if isinstance(node, exp.Placeholder):
        return node.name or None
    return None


def _murmur(x: str) -> str:
    """DuckDB's MurmurHash64 of a 64-bit value, in Spark SQL (wrapping arithmetic)."""
    a = f"(({x}) ^ shiftrightunsigned(({x}), 32))"
    b = f"(({a}) * {_MIX})"
    c = f"(({b}) ^ shiftrightunsigned(({b}), 32))"
    d = f"(({c}) * {_MIX})"
    return f"(({d}) ^ shiftrightunsigned(({d}), 32))"


def _duckdb_hash2(row_hash_signed: str, seed: str) -> str:
    """hash(row_hash, seed) as DuckDB computes it, returned order-preserving signed (bits xor 2^63)."""
    u = f"(({row_hash_signed}) ^ {MIN_LONG})"                # the unsigned hash's bits
    h1 = _murmur(u)
    h2 = _murmur(f"cast(({seed}) as bigint)")
    mixed = f"((({h1}) ^ shiftrightunsigned(({h1}), 32)) * {_MIX})"
    return f"((({mixed}) ^ ({h2})) ^ {MIN_LONG})"


_ROW_HASH_ARGS = ["ts", "provider", "model_raw", "account", "project", "api_key", "user_id", "requests",
                  "input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "ingest_id"]


def _unique_cte_names(tree: exp.Expression) -> None:
    """A query spliced into a CTE keeps its own WITH (the replay's rows end in `final`, like the replay): Spark's
    SQL (and sqlglot's Spark output, which lifts nested CTEs to the top) needs one namespace, so a nested CTE is
    renamed after the CTE holding it, with the references in its scope."""
    for with_ in list(tree.find_all(exp.With)):
        holder = with_.find_ancestor(exp.CTE)
        if holder is None:
            continue
        scope = with_.parent
        for cte in with_.expressions:
            old, new = cte.alias, f"{holder.alias}__{cte.alias}"
            cte.set("alias", exp.TableAlias(this=exp.to_identifier(new)))
            for table in scope.find_all(exp.Table):
                if table.name == old and not table.args.get("db"):
                    table.set("this", exp.to_identifier(new))
                    if not table.alias:
                        table.set("alias", exp.TableAlias(this=exp.to_identifier(old)))


def to_spark(text: Any, params: dict[str, Any]) -> str:
    """The DuckDB query `text` with `params` bound, as Spark SQL (see the module's docstring)."""
    name = _name(text)
    raw = str(text)
    code = re.sub(r"--[^\n]*", "", raw)
    if re.search(r"\bqualify\b", code, re.I):
        raise SparkUnsupported(f"{name}: uses QUALIFY, which Spark SQL has no form of")
    try:
        tree = sqlglot.parse_one(raw, read="duckdb")
    except sqlglot.errors.ParseError as e:
        raise SparkUnsupported(f"{name}: sqlglot cannot parse it ({str(e).splitlines()[0]})") from e
    tree = eliminate_ctes(tree)
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)   # Spark has no MATERIALIZED; see row_number() below for what it kept
    _unique_cte_names(tree)       # e.g. the replay's `grades` CTE, unread without a shadow evaluation

    # 1. bound tables: select unnest(cast($a as T[])) as x, unnest(...) as y  ->  VALUES
    for select in list(tree.find_all(exp.Select)):
        cols = select.expressions
        if (select.args.get("from_") or select.args.get("from")) is None and cols and all(
                isinstance(c, exp.Alias) and isinstance(c.this, (exp.Unnest, exp.Explode)) for c in cols):
            names, lists, types = [], [], []
            for c in cols:
                inner = c.this.expressions[0] if isinstance(c.this, exp.Unnest) else c.this.this
                cast = inner if isinstance(inner, exp.Cast) else None
                pname = _param_name(cast.this if cast else inner)
                if pname is None or pname not in params:
                    raise SparkUnsupported(f"{name}: unnest of something other than a bound list")
                names.append(c.alias)
                lists.append(list(params[pname]))
                types.append(cast.to.expressions[0].sql("spark") if cast and cast.to.expressions else "string")
            if len({len(v) for v in lists}) != 1:
                raise SparkUnsupported(f"{name}: bound lists of different lengths unnested together")
            casts = ", ".join(f"cast({n} as {t}) as {n}" for n, t in zip(names, types, strict=True))
            if lists[0]:
                rows = ", ".join("(" + ", ".join(_literal(v).sql("spark") for v in row) + ")"
                                 for row in zip(*lists, strict=True))
                repl = f"select {casts} from (values {rows}) as t({', '.join(names)})"
            else:
                nulls = ", ".join(f"cast(null as {t}) as {n}" for n, t in zip(names, types, strict=True))
                repl = f"select {nulls} from (values (1)) as t(x) where 1 = 0"
            select.replace(sqlglot.parse_one(repl, read="spark"))

    # 2. ASOF joins: only onto row_rates, whose intervals per (provider, model) are the catalog's, contiguous and
    #    disjoint (valid_to = the next valid_from): there "the last interval starting at or before ts" is "the
    #    interval holding ts", a plain range join
    for join in list(tree.find_all(exp.Join)):
        if (join.args.get("method") or "").upper() != "ASOF":
            continue
        table = join.this
        cond = join.args.get("on")
        ge = [c for c in (cond.flatten() if isinstance(cond, exp.And) else [cond]) if isinstance(c, exp.GTE)
              and c.expression.name == "valid_from"] if cond is not None else []
        if not (isinstance(table, exp.Table) and table.name == "row_rates" and ge):
            raise SparkUnsupported(f"{name}: uses an ASOF join onto {table.sql()}, which Spark SQL has no form of")
        ts = ge[0].this
        join.set("method", None)
        join.set("on", exp.and_(cond, exp.LT(this=ts.copy(), expression=exp.column("valid_to",
                                                                                  table=table.alias_or_name))))

    # 3. values
    def bind(node: exp.Expression) -> exp.Expression:
        pname = _param_name(node)
        if pname is not None:
            if pname not in params:
                raise SparkUnsupported(f"{name}: no value bound for ${pname}")
            return _literal(params[pname])
        return node

    tree = tree.transform(bind)

    # 4. hashes, row ids
    def rewrite(node: exp.Expression) -> exp.Expression:
        fname = node.name.lower() if isinstance(node, (exp.Anonymous, exp.Func)) else ""
        if isinstance(node, exp.Anonymous) and fname == "hash" or type(node).__name__ == "Hash":
            args = node.expressions if isinstance(node, exp.Anonymous) else [node.this, *node.expressions]
            cols = [a.name for a in args]
            if cols == _ROW_HASH_ARGS:
                return exp.column("row_hash")
            if cols == ["session_id"] and isinstance(args[0], exp.Column):
                # hash(session_id): a session unit's conversation key (simulate/plan.py), exported by the lake
                return exp.column("session_hash")
            if len(args) == 1 and isinstance(args[0], exp.BitwiseXor) \
                    and args[0].this.name in ("row_hash", "unit_key") \
                    and isinstance(args[0].expression, exp.Cast) and isinstance(args[0].expression.this, exp.Literal):
                # hash(xor(row_hash | unit_key, cast(seedmix as ubigint))): a random pick's key of a request or a
                # conversation (simulate/policies.py); both are the signed form of DuckDB's hash here
                key = args[0].this.name
                v = int(args[0].expression.this.this) % 2**64
                mix = str(v - 2**64 if v >= 2**63 else v)
                bits = f"(({key} ^ {MIN_LONG}) ^ cast({mix} as bigint))"
                return sqlglot.parse_one(f"(({_murmur(bits)}) ^ {MIN_LONG})", read="spark")
            if len(args) == 2 and cols[0] == "row_hash":
                return sqlglot.parse_one(_duckdb_hash2("row_hash", args[1].sql("spark")), read="spark")
            raise SparkUnsupported(f"{name}: hash({', '.join(a.sql() for a in args)}) has no Spark equivalent "
                                   "(DuckDB's hash differs from Spark's)")
        if type(node).__name__ == "ToDays":
            return exp.func("make_interval", *[exp.Literal.number(0)] * 3, node.this)
        if type(node).__name__ == "RegexpFullMatch":
            # the whole string must match: Spark's RLIKE finds a match anywhere, so anchor the (bound) pattern
            pattern = node.expression
            if not isinstance(pattern, exp.Literal):
                raise SparkUnsupported(f"{name}: regexp_full_match with a pattern that is not a bound value")
            return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{pattern.this})$"))
        if isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber) \
                and not node.args.get("partition_by") and not node.args.get("order"):
            return exp.column("row_key")
        return node

    tree = tree.transform(rewrite)
    if any(d.this in (exp.DataType.Type.UINT128, exp.DataType.Type.UBIGINT) for d in tree.find_all(exp.DataType)):
        raise SparkUnsupported(f"{name}: uses an unsigned 64/128-bit integer (per-request grades of a shadow "
                               "evaluation join on the 128-bit row key), which Spark has no type for; run this "
                               "scenario on DuckDB")
    # count(distinct (a, b)): Spark counts distinct tuples as count(distinct a, b) (the columns here are not null)
    for count in tree.find_all(exp.Count):
        d = count.this
        if isinstance(d, exp.Distinct) and len(d.expressions) == 1 and isinstance(d.expressions[0], exp.Tuple):
            d.set("expressions", [e.copy() for e in d.expressions[0].expressions])
    # string_agg(distinct x, sep order by x) [filter (where c)]: Spark's LISTAGG ... WITHIN GROUP fails inside
    # (4.x ClassCastException); the same list as a sorted set, joined, null when empty as DuckDB gives
    for agg in list(tree.find_all(exp.GroupConcat)):
        order = agg.this if isinstance(agg.this, exp.Order) else None
        distinct = order.this if order is not None else agg.this
        keys = [o.this for o in order.expressions] if order is not None else []
        if not (isinstance(distinct, exp.Distinct) and len(distinct.expressions) == 1
                and (not keys or keys[0] == distinct.expressions[0])):
            raise SparkUnsupported(f"{name}: string_agg other than of distinct values in their own order")
        holder = agg.parent if isinstance(agg.parent, exp.Filter) else agg
        inner = exp.func("collect_set", distinct.expressions[0].copy())
        if holder is not agg:
            inner = exp.Filter(this=inner, expression=holder.expression.copy())
        sep = agg.args.get("separator") or exp.Literal.string(",")
        joined = sqlglot.parse_one("case when size(s) = 0 then null else array_join(array_sort(s), sep) end",
                                   read="spark")
        joined = joined.transform(lambda n: inner.copy() if isinstance(n, exp.Column) and n.name == "s"
                                  else sep.copy() if isinstance(n, exp.Column) and n.name == "sep" else n)
        holder.replace(joined)
    # a window over aliases of its own select (DuckDB resolves them laterally; Spark refuses in windows): the
    # aliased expressions themselves
    for select in tree.find_all(exp.Select):
        aliases = {a.alias: a.this for a in select.expressions if isinstance(a, exp.Alias)}
        for window in [w for e in select.expressions for w in e.find_all(exp.Window)]:
            for col in list(window.find_all(exp.Column)):
                if not col.table and col.name in aliases and not isinstance(aliases[col.name], exp.Window):
                    col.replace(aliases[col.name].copy())
    if any(isinstance(n, exp.Column) and n.name == "row_key" for n in tree.find_all(exp.Column)):
        # carry the natural key out of usage_replay (the replay's rows select named columns)
        for select in tree.find_all(exp.Select):
            src = (select.args.get("from_") or select.args.get("from"))
            table = src.this if src is not None else None
            if isinstance(table, exp.Table) and table.name in ("usage_replay", "replay_stored") and not any(
                    c.alias_or_name == "row_key" for c in select.expressions):
                select.select(exp.column("row_key", table=table.alias_or_name), append=True, copy=False)
    try:
        return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as e:
        raise SparkUnsupported(f"{name}: {e}") from e


class SparkLake:
    """A lake opened in Spark; `sql`/`query` like Warehouse's. `master`: `local[N]` (default `local[2]`) or a
    Spark Connect URL (`sc://host:port`)."""

    def __init__(self, folder: str | Path, master: str = "local[2]", conf: dict[str, str] | None = None):
        folder = str(folder).rstrip("/")
        if "://" not in folder and not (Path(folder) / MANIFEST).exists():
            raise SparkError(f"{folder}: not a lake (no {MANIFEST}); write one with `modelmix lake export {folder}`")
        try:
            from pyspark.sql import SparkSession
        except ImportError as e:
            raise SparkError("pyspark is not installed: pip install 'modelmix[spark]' (and a Java 17 runtime)") from e
        builder = SparkSession.builder.appName("modelmix")
        builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
        settings = {
            "spark.sql.ansi.enabled": "false",            # 64-bit wrapping arithmetic (the hash), DuckDB-like casts
            "spark.sql.session.timeZone": "UTC",          # the ledger's timestamps are naive UTC
            "spark.sql.shuffle.partitions": "4",
            "spark.ui.enabled": "false",
            "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
            **(conf or {}),
        }
        for k, v in settings.items():
            builder = builder.config(k, v)
        self.spark = builder.getOrCreate()
        self.folder = folder
        rows = self.spark.read.option("basePath", f"{folder}/usage").parquet(f"{folder}/usage")
        rows.createOrReplaceTempView("usage_keyed")
        rows.createOrReplaceTempView("usage")
        rows.filter("in_replay").createOrReplaceTempView("usage_replay")
        # the ledger's stored copy of the replayed rows (sql/writes/replay_stored_rows.sql): the lake's rows are
        # priced already and carry the same `row_hash`; only the token total is added
        rows.filter("in_replay").selectExpr(
            "*", "input_tokens + cache_read_tokens + cache_write_tokens + output_tokens as total_tokens"
        ).createOrReplaceTempView("replay_stored")
        for table in TABLES:
            if table == PARTITIONED_TABLE:
                self._partitioned_table(table)
                continue
            if "://" not in folder and not (Path(folder) / "tables" / f"{table}.parquet").exists():
                continue    # a lake exported before the table existed (spend_daily): a query reading it fails, named
            self.spark.read.parquet(f"{folder}/tables/{table}.parquet").createOrReplaceTempView(table)

    def _partitioned_table(self, table: str) -> None:
        """A table written one file per month (lake.PARTITIONED_TABLE: tables/<table>/month=YYYY-MM/): the folder,
        without the `month` column the folder names add; a lake of an older export holds one file instead."""
        base = f"{self.folder}/tables/{table}"
        if "://" not in self.folder and not Path(base).is_dir():
            if (Path(self.folder) / "tables" / f"{table}.parquet").exists():
                self.spark.read.parquet(f"{base}.parquet").createOrReplaceTempView(table)
            return      # no rows at all (an empty ledger): a query reading it fails, named
        self.spark.read.option("basePath", base).parquet(base).drop("month").createOrReplaceTempView(table)

    def sql(self, text: Any, **params: Any) -> pl.DataFrame:
        spark_sql = to_spark(text, params)
        try:
            table = self.spark.sql(spark_sql).toArrow()
        except Exception as e:  # noqa: BLE001 -- pyspark raises many types; all become one error naming the query
            first = str(e).strip().splitlines()[0][:400] if str(e).strip() else type(e).__name__
            raise SparkError(f"{_name(text)} failed on Spark: {first}") from e
        return pl.from_arrow(table)

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        return self.sql(sql.load(f"queries/{name}"), **params)

    def close(self) -> None:
        self.spark.stop()

    def __enter__(self) -> SparkLake:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
