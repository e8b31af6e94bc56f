-- name: user_by_email
-- `storeline token --user EMAIL` (storeline/api/devtoken.py): whose token to sign.
SELECT id, email, role FROM app_dashboard.users WHERE lower(email) = lower($1)
