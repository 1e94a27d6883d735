-- aws-cur2: CUR 2.0 / Data Exports (snake_case headers) -> the shared line-item columns `cur`.
-- Grain: one row per CUR line item, every AWS service (aws_cur_lines.sql keeps the Bedrock ones).
-- Only renames. `product` and `resource_tags` are MAP columns, rendered as JSON text in CSV exports
-- ({"product_name": "...", "user_team": "support"}); text that is not JSON is ignored rather than failing.
-- Caller tags of the IAM principal arrive as `iamPrincipal/<key>` in `resource_tags`.
with maps as (
    select
        *,
        case when json_valid(product) then product end as product_json,
        case when json_valid(resource_tags) then resource_tags end as tags_json
    from src
),
final as (
    select
        _row,
        identity_line_item_id as line_item_id,
        line_item_line_item_type as line_item_type,
        line_item_usage_start_date as usage_start,
        line_item_usage_end_date as usage_end,
        line_item_usage_account_id as account_id,
        line_item_product_code as product_code,
        line_item_usage_type as usage_type,
        line_item_operation as operation_name,
        line_item_resource_id as resource_id,
        line_item_usage_amount as usage_amount,
        pricing_unit,
        line_item_unblended_cost as cost,
        line_item_currency_code as currency,
        line_item_line_item_description as description,
        coalesce(product_product_name, product_json ->> 'product_name') as product_name,
        line_item_iam_principal as principal,
        coalesce(tags_json ->> 'user_team', tags_json ->> 'iamPrincipal/team') as team_tag,
        coalesce(tags_json ->> 'user_workload', tags_json ->> 'iamPrincipal/workload') as workload_tag,
        coalesce(tags_json ->> 'user_project', tags_json ->> 'user_application') as project_tag
    from maps
)
select * from final
