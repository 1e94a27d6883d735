"""Anthropic Console usage exported by hour (issue 12 item 3, adapter side): the bucket width comes from the data —
a daily export's usage_date_utc is a date, an hourly one carries a time of day — so hourly rows are labelled
`hour`, not `day`. Fixtures: a month by day and the hourly export of one of its days (same account, our values)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ingest import ingest_paths

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
DAILY = DATA / "claude_usage_2026-09_daily.csv"
HOURLY = DATA / "claude_usage_2026-09-14_hourly.csv"
HEADER = DAILY.read_text(encoding="utf-8").splitlines()[0]


def _day(wh):
    return wh.sql("select granularity, count(*), min(ts), max(ts), sum(input_tokens), sum(output_tokens) "
                  "from usage_raw where ts >= '2026-09-14' and ts < '2026-09-15' group by 1 order by 1").rows()


def test_hourly_export_is_labelled_hour_and_daily_stays_day(wh):
    [daily] = ingest_paths(wh, [DAILY])
    assert (daily.format, daily.rows_loaded) == ("anthropic-console-usage-csv", 30)
    assert _day(wh) == [("day", 1, datetime(2026, 9, 14), datetime(2026, 9, 14), 24_140, 3_014)]
    [hourly] = ingest_paths(wh, [HOURLY])
    assert (hourly.format, hourly.rows_loaded) == ("anthropic-console-usage-csv", 4)
    # the hourly export holds the same day's tokens in four hour buckets; as the later statement of that day it
    # replaces the daily row (docs/design.md), so the day is counted once
    assert _day(wh) == [("hour", 4, datetime(2026, 9, 14, 2), datetime(2026, 9, 14, 21), 24_140, 3_014)]
    assert wh.sql("select count(*) from usage_raw where granularity = 'day'").item() == 29


def test_an_hourly_bucket_at_midnight_is_still_an_hour(wh, tmp_path):
    path = tmp_path / "one_hour.csv"
    path.write_text(HEADER + "\n2026-09-14 00:00:00,claude-haiku-4-5-20251001,k,Default,standard,≤ 200k,10,0,0,0,5,0,"
                    "global,\n", encoding="utf-8")
    [r] = ingest_paths(wh, [path])
    assert r.rows_loaded == 1
    assert wh.sql("select granularity, ts from usage_raw").row(0) == ("hour", datetime(2026, 9, 14))


def test_per_minute_export_is_labelled_minute(wh, tmp_path):
    path = tmp_path / "minutes.csv"
    rows = [f"2026-09-14T10:0{m}:00Z,claude-haiku-4-5-20251001,k,Default,standard,≤ 200k,10,0,0,0,5,0,global,"
            for m in range(3)]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    [r] = ingest_paths(wh, [path])
    assert r.rows_loaded == 3
    assert wh.sql("select distinct granularity from usage_raw").item() == "minute"
