"""Provider pulls against a local fake of the admin APIs (tests/pull_fakes.py, 127.0.0.1 only): paging, empty
buckets, 429 with Retry-After, a 500, incremental re-runs that load each row once, an interrupted pull that
resumes without gaps or duplicates, and the 401 message naming the key's environment variable."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pull import LocalSink, PullAuthError, PullConfigError, PullOptions, RetryPolicy, pull_provider, status
from pull.apis import activity_rows
from pull_fakes import (ANTHROPIC_COSTS, ANTHROPIC_USAGE, OPENAI_COSTS, OPENAI_USAGE, OPENROUTER_ACTIVITY,
                              FakeProviderApi, anthropic_cost, anthropic_usage, day, openai_completion, openai_cost,
                              openai_embedding, openrouter_item)

KEY = "sk-admin-test-0123456789"
NOW = dt.datetime(2026, 9, 11, 10, 0, tzinfo=dt.timezone.utc)
DATA_DAYS = [d for d in range(1, 11) if d != 4]   # 2026-09-01..10 with usage; the 4th is an empty bucket


def openai_data(days=DATA_DAYS, month=9) -> dict:
    data: dict = {OPENAI_USAGE + "completions": {}, OPENAI_USAGE + "embeddings": {}, OPENAI_COSTS: {}}
    for d in days:
        t = day(2026, month, d)
        data[OPENAI_USAGE + "completions"][t] = [openai_completion("gpt-4o-mini-2024-07-18", "proj_a", d),
                                                 openai_completion("gpt-4o-2024-08-06", "proj_b", 1, batch=d % 2 == 0)]
        data[OPENAI_USAGE + "embeddings"][t] = [openai_embedding(d)]
        data[OPENAI_COSTS][t] = [openai_cost("gpt-4o-mini-2024-07-18, input", 0.01 * d),
                                 openai_cost("gpt-4o-mini-2024-07-18, output", 0.02 * d)]
    return data


def expected_rows(data: dict) -> int:
    return sum(len(results) for by_day in data.values() for results in by_day.values())


class Sleeps(list):
    """Records every backoff wait and really waits (the 429's one second included: the test is about it)."""

    def __call__(self, seconds: float) -> None:
        import time

        self.append(seconds)
        time.sleep(seconds)


def options(base_url: str, now=NOW, **kw) -> PullOptions:
    """Pull options for the fakes; a 12-day first-run lookback (Aug 30 to Sep 10: 12 buckets, 4 pages of 3)."""
    kw.setdefault("lookback", dt.timedelta(days=12))
    retry = kw.pop("retry", None) or RetryPolicy(attempts=3, backoff=0.01, max_wait=2.0, sleep=Sleeps())
    return PullOptions(base_url=base_url, env={"OPENAI_ADMIN_KEY": KEY, "ANTHROPIC_ADMIN_KEY": KEY,
                                               "OPENROUTER_API_KEY": KEY},
                       now=now, retry=retry, timeout=5.0, **kw)


def count(wh, fmt: str) -> int:
    return wh.scalar("select count(*) from usage_raw where source_format = $f", f=fmt)


@pytest.fixture
def openai_api():
    data = openai_data()
    with FakeProviderApi(data, key=KEY, page_size=3) as api:
        api.fixture_data = data
        yield api


@pytest.mark.slow
def test_openai_two_pulls_load_each_row_once_with_paging_429_and_500(wh, openai_api):
    sleeps = Sleeps()
    # the 2nd request gets a 429 with Retry-After: 1, the 5th a 500 once: both retried, nothing lost
    openai_api.faults = {2: ("status", 429, {"Retry-After": "1"}), 5: ("status", 500, {})}
    opts = options(openai_api.base_url, retry=RetryPolicy(attempts=4, backoff=0.01, max_wait=5.0, sleep=sleeps),
                   lookback=dt.timedelta(days=30))
    reports = pull_provider(LocalSink(wh), "openai", opts)

    assert all(r.ok for r in reports), [r.error for r in reports]
    by = {r.stream: r for r in reports}
    # the default 30-day lookback is 30 daily buckets: 10 pages of 3 for every endpoint, empty ones included
    assert {r.pages for r in reports} == {10}
    assert by["usage/completions"].rows_loaded == 2 * len(DATA_DAYS)
    assert by["usage/embeddings"].rows_loaded == len(DATA_DAYS)
    assert by["costs"].rows_loaded == 2 * len(DATA_DAYS)
    assert by["usage/moderations"].rows_loaded == 0        # every bucket empty: nothing to load, cursor moves
    assert 1.0 in sleeps, f"Retry-After: 1 honoured (waits: {sleeps})"
    assert len(sleeps) == 2
    total = expected_rows(openai_api.fixture_data)
    assert count(wh, "openai-usage-api") + count(wh, "openai-costs-api") == total
    until = dt.datetime(2026, 9, 11)
    st = status(wh)
    assert set(st["loaded_until"]) == {until} and set(st["last_status"]) == {"ok"}
    assert st.filter(st["stream"] == "usage/completions")["rows_loaded_total"].item() == 18

    # a second run re-reads only the safety window (2 days = 1 page) and adds nothing
    openai_api.requests.clear()
    again = pull_provider(LocalSink(wh), "openai", options(openai_api.base_url))
    assert sum(r.rows_loaded for r in again) == 0
    assert {r.pages for r in again} == {1}
    assert sum(r.rows_duplicate for r in again) == 2 * (2 + 1 + 2)      # Sep 9 and 10, three endpoints with data
    start_asked = {int(q["start_time"]) for _, q in openai_api.requests}
    assert start_asked == {day(2026, 9, 9)}
    assert count(wh, "openai-usage-api") + count(wh, "openai-costs-api") == total
    assert wh.scalar("select count(*) - count(distinct row_key) from usage_raw") == 0


@pytest.mark.slow
def test_incremental_run_adds_only_new_days(wh, openai_api):
    pull_provider(LocalSink(wh), "openai", options(openai_api.base_url))
    before = count(wh, "openai-usage-api")
    # two more days happen; the clock moves on
    new = openai_data(days=[11, 12])
    for path, by_day in new.items():
        openai_api.fixture_data[path].update(by_day)
    reports = pull_provider(LocalSink(wh), "openai", options(openai_api.base_url, now=NOW + dt.timedelta(days=2)))
    by = {r.stream: r for r in reports}
    assert by["usage/completions"].rows_loaded == 4 and by["usage/embeddings"].rows_loaded == 2
    assert by["usage/completions"].rows_duplicate == 4        # Sep 9 and 10 again, skipped
    assert count(wh, "openai-usage-api") == before + 6


@pytest.mark.slow
def test_open_day_is_never_read(wh, openai_api):
    # usage of the current (open) day exists but must not be loaded: the ledger keeps a row's first value
    openai_api.fixture_data[OPENAI_USAGE + "completions"][day(2026, 9, 11)] = [openai_completion("gpt-4o", "p", 5)]
    pull_provider(LocalSink(wh), "openai", options(openai_api.base_url))
    assert wh.scalar("select max(ts) from usage_raw") == dt.datetime(2026, 9, 10)
    asked_end = {int(q["end_time"]) for _, q in openai_api.requests}
    assert asked_end == {day(2026, 9, 11)}


@pytest.mark.slow
def test_interrupted_pull_resumes_without_gaps_or_duplicates(wh):
    data = openai_data()
    total = expected_rows(data)
    with FakeProviderApi(data, key=KEY, page_size=3) as first:
        first.die_after_pages = 6         # completions' 4 pages, then 2 of embeddings, then the server is gone
        reports = pull_provider(LocalSink(wh), "openai", options(first.base_url))
    by = {r.stream: r for r in reports}
    assert by["usage/completions"].ok and by["usage/completions"].pages == 4
    assert not by["usage/embeddings"].ok and "cannot reach openai" in by["usage/embeddings"].error
    assert by["usage/embeddings"].pages == 2
    assert not by["costs"].ok
    st = {r["stream"]: r for r in status(wh).to_dicts()}
    # the cursor stopped after the last page loaded: 2 pages x 3 buckets from Aug 30 = Sep 5
    assert st["usage/embeddings"]["loaded_until"] == dt.datetime(2026, 9, 5)
    assert st["usage/embeddings"]["last_status"] == "failed" and st["usage/embeddings"]["last_error"]
    assert st["costs"]["loaded_until"] is None
    partial = count(wh, "openai-usage-api") + count(wh, "openai-costs-api")
    assert partial < total

    with FakeProviderApi(data, key=KEY, page_size=3) as second:     # the provider is back (another port)
        resumed = pull_provider(LocalSink(wh), "openai", options(second.base_url))
        assert all(r.ok for r in resumed)
        # embeddings resumed at its cursor minus the safety window, not at the start of the lookback
        starts = {q["start_time"] for p, q in second.requests if p.endswith("/embeddings") and "page" not in q}
        assert starts == {str(day(2026, 9, 3))}
    assert count(wh, "openai-usage-api") + count(wh, "openai-costs-api") == total
    assert wh.scalar("select count(*) - count(distinct row_key) from usage_raw") == 0
    assert set(status(wh)["last_status"]) == {"ok"}


def test_401_names_the_environment_variable_and_never_the_key(wh, openai_api):
    wrong = "sk-admin-wrong-key-987654"
    opts = options(openai_api.base_url)
    opts.env = {"OPENAI_ADMIN_KEY": wrong}
    with pytest.raises(PullAuthError) as e:
        pull_provider(LocalSink(wh), "openai", opts)
    assert "OPENAI_ADMIN_KEY" in e.value.message and "401" in e.value.message
    assert wrong not in str(e.value)
    st = status(wh).to_dicts()
    assert st[0]["last_status"] == "failed" and "OPENAI_ADMIN_KEY" in st[0]["last_error"]
    assert wrong not in repr(st)
    assert len(openai_api.requests) == 1        # not retried, and the other endpoints were not tried


def test_missing_key_says_which_variable_to_set(wh):
    with pytest.raises(PullConfigError, match="ANTHROPIC_ADMIN_KEY"):
        pull_provider(LocalSink(wh), "anthropic", PullOptions(env={}))


@pytest.mark.slow
def test_anthropic_usage_and_cost_reports(wh):
    usage, cost = {}, {}
    for d in DATA_DAYS:
        usage[day(2026, 9, d)] = [anthropic_usage("claude-sonnet-4-20250514", 1000 * d)]
        cost[day(2026, 9, d)] = [anthropic_cost("Claude Sonnet 4 Usage - Input Tokens", f"{123.45 * d:.2f}")]
    with FakeProviderApi({ANTHROPIC_USAGE: usage, ANTHROPIC_COSTS: cost}, key=KEY, page_size=4) as api:
        api.faults = {3: ("status", 503, {"Retry-After": "0"})}
        reports = pull_provider(LocalSink(wh), "anthropic", options(api.base_url))
        assert all(r.ok for r in reports), [r.error for r in reports]
        assert [r.rows_loaded for r in reports] == [len(DATA_DAYS), len(DATA_DAYS)]
        assert {r.pages for r in reports} == {3}                      # 12 buckets, 4 a page
        again = pull_provider(LocalSink(wh), "anthropic", options(api.base_url))
        assert sum(r.rows_loaded for r in again) == 0
    assert count(wh, "anthropic-usage-api") == len(DATA_DAYS)
    # cents -> dollars in the adapter: 123.45 cents on Sep 1
    assert wh.scalar("select cost_usd from usage_raw where source_format = 'anthropic-cost-api' "
                     "and ts = '2026-09-01'") == Decimal("1.234500")


@pytest.mark.slow
def test_openrouter_activity_days(wh):
    items = {f"2026-09-{d:02d}": [openrouter_item(f"2026-09-{d:02d}", "anthropic/claude-sonnet-4", "ep1", 0.5, 2),
                                  openrouter_item(f"2026-09-{d:02d}", "anthropic/claude-sonnet-4", "ep2", 0.25, 1)]
             for d in DATA_DAYS}
    with FakeProviderApi({OPENROUTER_ACTIVITY: items}, key=KEY) as api:
        [r] = pull_provider(LocalSink(wh), "openrouter", options(api.base_url + "/api"))
        assert r.ok and r.pages == 12 and r.rows_loaded == len(DATA_DAYS)
        [again] = pull_provider(LocalSink(wh), "openrouter", options(api.base_url + "/api"))
        assert again.pages == 2 and again.rows_loaded == 0 and again.rows_duplicate == 2
    row = wh.sql("select requests, input_tokens, cost_usd from usage_raw where ts = '2026-09-01'").to_dicts()
    assert row == [{"requests": 3, "input_tokens": 3000, "cost_usd": Decimal("0.750000")}]


def test_activity_rows_sum_endpoints_per_day_and_model():
    rows = activity_rows([openrouter_item("2026-09-01", "m", "a", 0.1, 1), openrouter_item("2026-09-01", "m", "b", 0.2, 2)])
    assert rows == [["2026-09-01 00:00:00", "m", "0.3", "0", "3", "3000", "300", "0"]]
