-- assert_row_keys_unique: no natural key may appear twice in the ledger (that would be double counting).
with final as (
    select row_key, count(*) as n from usage_raw group by row_key having count(*) > 1
)
select * from final
