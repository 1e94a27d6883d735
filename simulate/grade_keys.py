"""A shadow evaluation's per-request grades keyed once (sql/simulate/grade_keys.sql): the md5 of every graded id
and the group-by of every grade leave each match (simulate/plan.py `match_request_grades`, one per prepare of the
slider tables and per replay), which then joins one row per graded request to the replayed rows.

The keys depend on the grades only (the macro `request_row_key` of migration 009 is the same in every ledger),
so a set of grades is keyed on first use and kept, by the identity of its columns (the models are frozen and
their Series are not to be mutated, as for the fingerprint in simulate/scenario.py): a What-if upload is keyed
once however often its structure changes. Model names stay as the file gives them; resolving them needs the
ledger, so the match combines the columns of names that resolve to one model id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

import sql
from simulate.memo import Kept
from simulate.scenario import RequestGrades

if TYPE_CHECKING:
    from warehouse.db import Warehouse


@dataclass(frozen=True)
class KeyedGrades:
    """The grades of one `RequestGrades`, keyed: column k of `given` (n{k}, s{k}) is model `models[k]`."""

    models: list[str]              # the file's distinct model names, as given (lower-case), sorted
    given: pl.DataFrame            # grades naming a provider: key_hi, key_lo, pairs, n{k}, s{k} per distinct key
    open: pl.DataFrame             # grades without a provider (request_id, model, score): keyed per ledger
    graded_requests: int           # distinct (provider, request id) of the file, an id without a provider once
    pairs: int                     # the file's (request, model) rows

    def model_columns(self, source: str = "") -> str:
        """Per model k: its grade count and highest score by key (`source`: the grades' alias and a dot), as
        grade_keys.sql and graded_rows.sql's pivot of the ids without a provider write them."""
        return "".join(f",\n        count(*) filter (where {source}model = $grade_r{k}) as n{k},"
                       f" max({source}score) filter (where {source}model = $grade_r{k}) as s{k}"
                       for k in range(len(self.models)))

    def params(self) -> dict[str, str]:
        return {f"grade_r{k}": m for k, m in enumerate(self.models)}


KEPT = 4          # sets of grades kept (2 M grades: ~40 MB keyed)
_KEYED = Kept(KEPT)


def keyed(wh: Warehouse, grades: RequestGrades) -> KeyedGrades:
    """`grades` keyed (computed on first use, then kept by the identity of its columns)."""
    return _KEYED.get("grades", lambda: _key(wh, grades),
                      held=(grades.request_id, grades.provider, grades.model, grades.score))


def clear() -> None:
    """Forget every keyed set (benches time the keying itself)."""
    _KEYED.clear()


def _key(wh: Warehouse, grades: RequestGrades) -> KeyedGrades:
    # the grades' own Series (the columns the file's reader read), not copied
    frame = pl.DataFrame([grades.request_id.alias("request_id"), grades.provider.alias("provider"),
                          grades.model.alias("model"), grades.score.alias("score")])
    models = frame["model"].unique().drop_nulls().sort().to_list()
    shell = KeyedGrades(models=models, given=pl.DataFrame(), open=pl.DataFrame(), graded_requests=0, pairs=0)
    # grouped by (provider, id) and keyed after (one md5 per id); by the key itself when a provider name holds the
    # key's separator, as two pairs could then make one key (sql/simulate/grade_keys.sql)
    by_key = bool(frame["provider"].str.contains("|", literal=True).any())
    group_key, row_key = (("request_row_key(provider, request_id) as row_key", "row_key") if by_key
                          else ("provider, request_id", "request_row_key(provider, request_id)"))
    text = (sql.load("simulate/grade_keys").replace("/*model_columns*/", shell.model_columns())
            .replace("/*group_key*/", group_key).replace("/*row_key*/", row_key))
    given = wh.sql(text, relations={"sim_grades_in": frame}, **shell.params())
    open_rows = frame.filter(pl.col("provider").is_null()).select("request_id", "model", "score")
    return KeyedGrades(models=models, given=given, open=open_rows, pairs=frame.height,
                       graded_requests=given.height + open_rows["request_id"].n_unique())


__all__ = ["KeyedGrades", "clear", "keyed"]
