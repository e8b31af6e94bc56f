-- Fleet-shared request budgets (97_source_budgets.sql, storeline/worker/kit/budget.py).

-- name: budget_take
-- $1 key, $2 interval seconds, $3 burst tolerance seconds → seconds to wait before sending.
SELECT storeline_private.budget_take($1, $2, $3)

-- name: budget_signal
-- $1 key, $2 pause seconds for every process, $3 least interval from now on.
SELECT storeline_private.budget_signal($1, $2, $3)
