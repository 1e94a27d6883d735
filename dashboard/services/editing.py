"""Edited tables and uploaded files into validated config entries. Pure: no streamlit.

`st.data_editor` hands back the edited table (polars or pandas); every non-empty row is validated through the
config's pydantic model, and the first failure becomes a ConfigError naming the row (as numbered on screen,
from 1) and the field, so the page can show it and save nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from pydantic import BaseModel, ValidationError

from warehouse.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def as_polars(frame: Any) -> pl.DataFrame:
    return frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)


def _clean(value: Any) -> Any:
    """Empty cells as None; editor timestamps as dates; whole floats left to pydantic."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, dt.datetime):
        return value.date()
    if hasattr(value, "to_pydatetime"):            # a pandas Timestamp
        return value.to_pydatetime().date()
    return value


def table_entries(frame: Any, model: type[M], columns: Sequence[str], title: str) -> list[M]:
    """The rows of an edited table as `model` entries, in table order. Rows left completely empty (an added
    row never filled in) are skipped. Raises ConfigError(title) naming 'row N, field F'."""
    df = as_polars(frame)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ConfigError(f"the table lacks the columns {', '.join(missing)}", title=title)
    out: list[M] = []
    for i, row in enumerate(df.select(columns).iter_rows(named=True), start=1):
        record = {k: v for k, v in ((k, _clean(v)) for k, v in row.items()) if v is not None}
        if not record:
            continue
        try:
            out.append(model.model_validate(record))
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(x) for x in err["loc"])
            where = f"row {i}, field {field}" if field else f"row {i}"
            raise ConfigError(f"{where}: {err['msg']}", title=title) from e
    return out


def load_upload(filename: str, data: bytes, loader: Callable[[Path], list[M]], title: str,
                suffixes: tuple[str, ...] = (".yaml", ".yml")) -> list[M]:
    """Validate an uploaded config file with the config's own file loader; errors name the upload, not the
    temporary copy."""
    suffix = Path(filename).suffix.lower()
    if suffix not in suffixes:
        raise ConfigError(f"{filename}: expected a {' or '.join(s.lstrip('.') for s in suffixes)} file", title=title)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(filename).name
        path.write_bytes(data)
        try:
            return loader(path)
        except ConfigError as e:
            raise ConfigError(e.message.replace(str(path), filename), title=title) from e
