-- users: who may sign in, with their role and the teams a viewer is restricted to; admins first.
-- Grain: one row per email. Params: $email (NULL: every user; an email, lower-cased: that user only).
with people as (
    select * from users
),

final as (
    select
        email,
        role,
        teams,
        added_at,
        added_by
    from people
    where $email is null or email = $email
)

select * from final
order by case role when 'admin' then 0 when 'analyst' then 1 else 2 end, email
