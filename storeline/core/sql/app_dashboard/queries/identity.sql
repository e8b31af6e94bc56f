-- name: set_request_identity
-- Transaction-local, like PostgREST: vanishes at COMMIT/ROLLBACK, never leaks to the pool.
SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)
