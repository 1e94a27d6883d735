"""A vendor's seat or licence export (a CSV with its own column names) read through a column mapping into the
seats and subscriptions table (migration 012), as the mapped usage CSV does for usage.

The mapping file (YAML), e.g. for a GitHub Copilot seat list (one row per assigned seat):

    seat_mapping:
      columns:                      # the export's column: a subscriptions field (or a list of fields)
        assigning_team: team
        plan_type: [product, price_per_seat_usd]
        created_at: start           # a date or a date-time; its date is taken
        pending_cancellation_date: end
      constants:                    # fields the export does not carry
        vendor: GitHub
        period: month
      values:                       # optional: a field's values as the export writes them -> as stored
        product: {business: Copilot Business, enterprise: Copilot Enterprise}
        price_per_seat_usd: {business: 19, enterprise: 39}
      end_is_exclusive: true        # optional: the end column is the first day no longer paid for
      date_format: "%m/%d/%Y"       # optional: how the dates are written (default ISO 8601, or YYYY-MM)

Fields: vendor, product, team, seats, price_per_seat_usd, period (month | year; monthly, annual, yearly accepted),
start, end, note. vendor, product, team, price_per_seat_usd and start come from a column or a constant. Without a
`seats` column or constant every row is one seat (a list of assigned users or licences): rows that agree on every
other field are one subscription line with that many seats. Prices may carry a `$` and thousands separators.

A bad file names the file, the row (its line in the CSV, the header being line 1) and the export's column, and
nothing is written: `load(path, mapping)` returns the lines as a polars frame (columns `whole_bill.
SUBSCRIPTION_COLUMNS`) only when every row is good; `whole_bill.replace_subscription_lines` writes them. Every check
is a polars expression over the whole file (no loop per row).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from warehouse.errors import ConfigError, field_path, parse_problem

FIELDS = ("vendor", "product", "team", "seats", "price_per_seat_usd", "period", "start", "end", "note")
REQUIRED = ("vendor", "product", "team", "price_per_seat_usd", "start")
PERIODS = {"month": "month", "monthly": "month", "year": "year", "yearly": "year", "annual": "year",
           "annually": "year"}
TITLE = "Invalid seat export"


class SeatMapping(BaseModel):
    """A seat export's mapping: which export column fills which subscriptions field, and the constants."""

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, str | list[str]] = Field(description="the export's column: a subscriptions field, or a "
                                                            "list of fields it fills")
    constants: dict[str, Any] = Field(default_factory=dict, description="subscriptions field: value")
    values: dict[str, dict[str, Any]] = Field(default_factory=dict,
                                              description="field: {the export's value: the value stored}")
    end_is_exclusive: bool = False
    date_format: str | None = Field(None, description="strptime pattern of the date columns; default ISO 8601")

    @field_validator("columns")
    @classmethod
    def _known_targets(cls, v: dict[str, str | list[str]]) -> dict[str, list[str]]:
        out = {col: [t] if isinstance(t, str) else list(t) for col, t in v.items()}
        for col, targets in out.items():
            for target in targets:
                if target not in FIELDS:
                    raise ValueError(f"column {col!r} maps to {target!r}, not a field: one of {', '.join(FIELDS)}")
        targets = [t for ts in out.values() for t in ts]
        twice = sorted({t for t in targets if targets.count(t) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} is filled by more than one column")
        return out

    @property
    def source(self) -> dict[str, str]:
        """{field: the export's column filling it}."""
        return {t: col for col, ts in self.columns.items() for t in ts}

    @model_validator(mode="after")
    def _complete(self) -> SeatMapping:
        unknown = sorted(set(self.constants) - set(FIELDS)) + sorted(set(self.values) - set(FIELDS))
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not a field (one of {', '.join(FIELDS)})")
        both = sorted(set(self.source) & set(self.constants))
        if both:
            raise ValueError(f"{', '.join(both)} is both a column and a constant")
        given = set(self.source) | set(self.constants)
        missing = [f for f in REQUIRED if f not in given]
        if missing:
            raise ValueError(f"{', '.join(missing)} comes from neither a column nor a constant")
        return self


def load_mapping(path: str | Path) -> SeatMapping:
    """The mapping file (a `seat_mapping:` mapping, or the mapping itself); errors name the file and the key."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror or type(e).__name__})", title=TITLE) from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: is not UTF-8 text (byte {e.start}); save it as UTF-8", title=TITLE) from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: cannot be read ({parse_problem(e)})", title=TITLE) from e
    if isinstance(doc, dict) and "seat_mapping" in doc:
        doc = doc["seat_mapping"]
    if not isinstance(doc, dict) or "columns" not in doc:
        raise ConfigError(f"{path}: has no `seat_mapping:` with `columns:`, so it is not a seat export mapping; "
                          "nothing was changed", title=TITLE)
    try:
        return SeatMapping.model_validate(doc)
    except ValidationError as e:
        err = e.errors()[0]
        where = field_path(err["loc"]) or "mapping"
        raise ConfigError(f"{path}: {where}: {err['msg'].removeprefix('Value error, ')}", title=TITLE) from e


def _read(path: Path) -> pl.DataFrame:
    """Every cell as text; a UTF-8 byte-order mark (Excel's "CSV UTF-8") is not part of the first column's name."""
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror or type(e).__name__})", title=TITLE) from e
    except pl.exceptions.ComputeError as e:
        if "utf-8" in str(e).lower():
            raise ConfigError(f"{path}: is not UTF-8 text; save it as CSV UTF-8", title=TITLE) from e
        raise ConfigError(f"{path}: cannot be read as CSV ({type(e).__name__})", title=TITLE) from e
    except pl.exceptions.PolarsError as e:
        raise ConfigError(f"{path}: cannot be read as CSV ({type(e).__name__})", title=TITLE) from e
    return frame.rename({c: c.lstrip("\ufeff") for c in frame.columns if c.startswith("\ufeff")})


def _date(text: pl.Expr, fmt: str | None) -> pl.Expr:
    """A date from text: the pattern given, else ISO 8601 (a date-time's date; YYYY-MM is that month's 1st)."""
    if fmt:
        return text.str.strptime(pl.Date, fmt, strict=False)
    iso = text.str.slice(0, 10)
    return pl.coalesce(iso.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
                       (text + "-01").str.strptime(pl.Date, "%Y-%m-%d", strict=False))


def load(path: str | Path, mapping: SeatMapping | str | Path) -> pl.DataFrame:
    """The export's subscription lines (columns `SUBSCRIPTION_COLUMNS` of finance.whole_bill), every row checked;
    the first bad row (lowest line) is named with its column, and how many more there are."""
    from finance.whole_bill import SUBSCRIPTION_COLUMNS

    path = Path(path)
    m = mapping if isinstance(mapping, SeatMapping) else load_mapping(mapping)
    raw = _read(path)
    absent = [c for c in m.columns if c not in raw.columns]
    if absent:
        # the file is not recognised as the export this mapping reads: its own header is not quoted
        raise ConfigError(f"{path}: has no column {', '.join(repr(c) for c in absent)} that the mapping reads; "
                          "is it the export this mapping is for? Nothing was changed", title=TITLE)
    source = m.source
    text = {}
    for f in FIELDS:
        if f in source:
            cell = pl.col(source[f]).str.strip_chars()
            cell = pl.when(cell == "").then(None).otherwise(cell)
            if f in m.values:
                cell = cell.replace({str(k): str(v) for k, v in m.values[f].items()})
            text[f] = cell
        elif f in m.constants:
            text[f] = pl.lit(str(m.constants[f]))
    frame = raw.select(pl.int_range(2, pl.len() + 2).alias("_line"), *(e.alias(f"t_{f}") for f, e in text.items()))
    price = pl.col("t_price_per_seat_usd").str.replace_all(r"^\$|,", "")
    typed = {
        "vendor": pl.col("t_vendor"), "product": pl.col("t_product"), "team": pl.col("t_team"),
        "seats": pl.col("t_seats").cast(pl.Int64, strict=False) if "seats" in text else pl.lit(1, pl.Int64),
        "price_per_seat_usd": price.cast(pl.Decimal(18, 6), strict=False),
        "period": (pl.col("t_period").str.to_lowercase().replace_strict(PERIODS, default=None)
                   if "period" in text else pl.lit("month")),
        "start_date": _date(pl.col("t_start"), m.date_format),
        "end_date": _date(pl.col("t_end"), m.date_format) if "end" in text else pl.lit(None, pl.Date),
        "note": pl.col("t_note") if "note" in text else pl.lit(None, pl.String),
    }
    if m.end_is_exclusive and "end" in text:
        typed["end_date"] = typed["end_date"] - pl.duration(days=1)
    frame = frame.with_columns(**typed)

    def where(f: str) -> str:
        return repr(source[f]) if f in source else f"constant {f}"

    # (condition, the field whose cell is quoted, the reason): checked in this order, every row at once
    checks = [(pl.col(f"t_{f}").is_null(), f, "missing") for f in ("vendor", "product", "team")]
    checks += [
        (pl.col("t_price_per_seat_usd").is_null(), "price_per_seat_usd", "missing"),
        (pl.col("price_per_seat_usd").is_null() & pl.col("t_price_per_seat_usd").is_not_null(), "price_per_seat_usd",
         "is not an amount"),
        (pl.col("price_per_seat_usd") < 0, "price_per_seat_usd", "is negative"),
        (pl.col("t_start").is_null(), "start", "missing"),
        (pl.col("start_date").is_null() & pl.col("t_start").is_not_null(), "start",
         f"is not a date ({m.date_format or 'YYYY-MM-DD'})"),
    ]
    if "seats" in text:
        checks += [(pl.col("t_seats").is_null(), "seats", "missing"),
                   (pl.col("seats").is_null() & pl.col("t_seats").is_not_null(), "seats", "is not a whole number"),
                   (pl.col("seats") < 0, "seats", "is negative")]
    if "period" in text:
        checks.append((pl.col("period").is_null(), "period", "is not month or year (monthly, annual, yearly)"))
    if "end" in text:
        checks += [(pl.col("end_date").is_null() & pl.col("t_end").is_not_null(), "end",
                    f"is not a date ({m.date_format or 'YYYY-MM-DD'})"),
                   (pl.col("end_date") < pl.col("start_date"), "end", "is before the start")]
    verdicts = frame.select("_line", *(pl.when(cond).then(pl.lit(i)).alias(f"c{i}")
                                        for i, (cond, _, _) in enumerate(checks)))
    bad = verdicts.select("_line", pl.min_horizontal(pl.exclude("_line")).alias("check")).filter(
        pl.col("check").is_not_null())
    if bad.height:
        line, i = bad.row(0)
        _, f, why = checks[i]
        cell = frame.filter(pl.col("_line") == line)[f"t_{f}"][0]
        shown = "" if cell is None else f" {_quote(cell)}"
        more = f" ({bad.height - 1:,} more row(s) have problems)" if bad.height > 1 else ""
        raise ConfigError(f"{path}: row {line}, column {where(f)}:{shown} {why}{more}. Nothing was changed",
                          title=TITLE)
    lines = frame.select(*(c for c in SUBSCRIPTION_COLUMNS))
    if "seats" not in text:
        # one row per seat: rows agreeing on everything else are one line of that many seats
        keys = [c for c in SUBSCRIPTION_COLUMNS if c != "seats"]
        lines = (lines.group_by(keys, maintain_order=True).agg(pl.col("seats").sum())
                 .select(*SUBSCRIPTION_COLUMNS))
    return lines.with_columns(pl.col("seats").cast(pl.Int32))


def _quote(value: str) -> str:
    """A cell as a message shows it: at most 60 characters, control characters as `?`."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in value[:60])
    return repr(clean + ("…" if len(value) > 60 else ""))


__all__ = ["SeatMapping", "load", "load_mapping"]

