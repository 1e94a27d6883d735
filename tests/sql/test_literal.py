"""sql.literal / sql.path_literal: the one place a value becomes SQL text (statements that take no parameter)."""

from __future__ import annotations

import duckdb
import pytest

import sql


@pytest.mark.parametrize("value", ["plain", "O'Brien's", "tab\there", "", "ünïcode ✓", 3, 2.5, True, False])
def test_literal_round_trips_through_duckdb(value):
    [(back,)] = duckdb.sql("select " + sql.literal(value)).fetchall()
    assert back == value


def test_path_literal_quotes_and_resolves(tmp_path):
    folder = tmp_path / "it's here"
    assert duckdb.sql("select " + sql.path_literal(folder)).fetchall()[0][0] == str(folder.resolve())


@pytest.mark.parametrize("name", ["a\nb", "a\rb", "a\0b"])
def test_path_literal_refuses_control_characters(tmp_path, name):
    with pytest.raises(ValueError, match="control characters"):
        sql.path_literal(str(tmp_path) + "/" + name)
