-- key_idless_rows: the row key of each staged row of a request file that has no request id: its content plus its
-- occurrence among identical id-less rows of the file (so each such line counts), as the staging statement keyed
-- it before (ingest/stage.py: `_content` is the content as text, null for a row with an id).
-- Grain: updates one staged row per id-less row (usually none). params: none (reads and updates temp table staged)
update staged as s
set row_key = k.row_key
from (
    with idless as (
        select _row, _content from staged where _content is not null
    ),
    final as (
        select
            _row,
            md5_number(concat_ws('|', _content, row_number() over (partition by _content order by _row))) as row_key
        from idless
    )
    select * from final
) as k
where s._row = k._row
