-- assert_tokens_sane: no negative token count, reasoning never more than output, at least one request a row.
with final as (
    select * from usage_raw
    where input_tokens < 0 or cache_read_tokens < 0 or cache_write_tokens < 0 or output_tokens < 0
        or reasoning_tokens < 0 or reasoning_tokens > output_tokens or requests < 0
)
select * from final
