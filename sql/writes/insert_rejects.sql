-- insert_rejects: one row per failed check of a staged row. params: $ingest_id
insert into ingest_rejects
select $ingest_id, _row, e.column, e.value, e.reason
from (select _row, unnest(_errors) as e from staged where _errors is not null)
