-- Request budgets a whole worker fleet shares (storeline/worker/kit/budget.py): one row per
-- budget key (a Meta app, a GA4 property of a Cloud project, a HubSpot portal). Each request
-- reserves the next send time here, so every process that talks to the same source spaces its
-- calls in one schedule, first come first served, instead of each spending the whole budget.
--
-- The schedule is a generic cell rate algorithm: `next_at` is the theoretical arrival time of
-- the next request; a request may go `tolerance` seconds ahead of it (the burst), and moves it
-- on by its interval. `blocked_until` is a fleet-wide pause a source's answer asked for (a
-- usage header at its limit, an exhausted quota); `interval_floor` is a spacing an answer asked
-- for (usage climbing), taken as the least interval of every request until it is lowered.
CREATE TABLE storeline_private.source_budgets (
    key            text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200),
    next_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    blocked_until  timestamptz NOT NULL DEFAULT '-infinity',
    interval_floor double precision NOT NULL DEFAULT 0 CHECK (interval_floor >= 0),
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
REVOKE ALL ON storeline_private.source_budgets FROM PUBLIC;

-- Reserve one request's send time; returns the seconds to wait before sending (0: now).
CREATE FUNCTION storeline_private.budget_take(
    p_key text, p_interval double precision, p_tolerance double precision
) RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    b storeline_private.source_budgets;
    now_ts timestamptz := clock_timestamp();
    step interval;
    send_at timestamptz;
BEGIN
    INSERT INTO storeline_private.source_budgets (key, next_at) VALUES (p_key, now_ts)
    ON CONFLICT (key) DO NOTHING;
    SELECT * INTO b FROM storeline_private.source_budgets WHERE key = p_key FOR UPDATE;
    step := make_interval(secs => greatest(p_interval, b.interval_floor));
    send_at := greatest(now_ts, b.next_at - make_interval(secs => p_tolerance), b.blocked_until);
    UPDATE storeline_private.source_budgets
       SET next_at = greatest(b.next_at, send_at) + step, updated_at = now_ts
     WHERE key = p_key;
    RETURN extract(epoch FROM send_at - now_ts);
END
$$;
REVOKE ALL ON FUNCTION storeline_private.budget_take(text, double precision, double precision)
    FROM PUBLIC;

-- What a source's answer said: pause everyone for `p_pause` seconds (0: no pause) and space
-- requests at least `p_floor` seconds apart from now on.
CREATE FUNCTION storeline_private.budget_signal(
    p_key text, p_pause double precision, p_floor double precision
) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO storeline_private.source_budgets AS b (key, blocked_until, interval_floor)
    VALUES (p_key, clock_timestamp() + make_interval(secs => p_pause), p_floor)
    ON CONFLICT (key) DO UPDATE
       SET blocked_until = greatest(b.blocked_until, excluded.blocked_until),
           interval_floor = excluded.interval_floor,
           updated_at = clock_timestamp();
$$;
REVOKE ALL ON FUNCTION storeline_private.budget_signal(text, double precision, double precision)
    FROM PUBLIC;
