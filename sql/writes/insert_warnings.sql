-- insert_warnings: one row per plausibility warning of a row that loaded (kept, named). params: $ingest_id
insert into ingest_warnings
select $ingest_id, _row, w.column, w.value, w.reason
from (select _row, unnest(_warnings) as w from staged where _errors is null and _warnings is not null)
