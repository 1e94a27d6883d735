-- aws-cur: legacy Cost and Usage Report CSV (`lineItem/UsageType` headers) -> the shared line-item columns `cur`.
-- Grain: one row per CUR line item, every AWS service (aws_cur_lines.sql keeps the Bedrock ones).
-- Only renames; cost allocation tags are `resourceTags/user:<key>` columns that a report may or may not have,
-- so they are read by name from the row as JSON (null when the report lacks them).
with tagged as (
    select *, to_json(s) as row_json
    from src as s
),
final as (
    select
        _row,
        "identity/LineItemId" as line_item_id,
        "lineItem/LineItemType" as line_item_type,
        "lineItem/UsageStartDate" as usage_start,
        "lineItem/UsageEndDate" as usage_end,
        "lineItem/UsageAccountId" as account_id,
        "lineItem/ProductCode" as product_code,
        "lineItem/UsageType" as usage_type,
        "lineItem/Operation" as operation_name,
        "lineItem/ResourceId" as resource_id,
        "lineItem/UsageAmount" as usage_amount,
        "pricing/unit" as pricing_unit,
        "lineItem/UnblendedCost" as cost,
        "lineItem/CurrencyCode" as currency,
        "lineItem/LineItemDescription" as description,
        "product/ProductName" as product_name,
        null::varchar as principal,
        row_json ->> 'resourceTags/user:team' as team_tag,
        row_json ->> 'resourceTags/user:workload' as workload_tag,
        coalesce(row_json ->> 'resourceTags/user:project', row_json ->> 'resourceTags/user:application')
            as project_tag
    from tagged
)
select * from final
