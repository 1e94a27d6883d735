"""The only code that opens DuckDB: migrations, named queries, the single writer, prices and attribution."""

from warehouse.db import Warehouse
from warehouse.errors import DatabaseBusy, ModelMixError

__all__ = ["Warehouse", "ModelMixError", "DatabaseBusy"]
