-- GA4 users over whole ranges (docs/platforms/ga4.md item 5): users are de-duplicated over the
-- range a request asks for, so a range's users are fewer than the sum of its days' and can only
-- come from a request over that range. Each job asks for the last 7 and 30 days ending at the
-- property's today and for every calendar month its days touch (month to date for the current
-- one); a range overlapping the re-pulled days is replaced, since its users may have changed.
CREATE TABLE core_warehouse.fact_web_traffic_range_totals (
    shop_id      text NOT NULL,
    property_id  text NOT NULL,
    first_day    date NOT NULL,
    last_day     date NOT NULL,
    sessions     bigint NOT NULL DEFAULT 0,
    users        bigint NOT NULL DEFAULT 0,
    new_users    bigint NOT NULL DEFAULT 0,
    sampled      boolean NOT NULL DEFAULT false,
    sync_job_id  bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, property_id, first_day, last_day),
    CHECK (first_day <= last_day)
);
SELECT storeline_private.enable_shop_rls('core_warehouse.fact_web_traffic_range_totals');

-- What the API reads: a shop's range users, newest property first.
CREATE VIEW reporting.web_traffic_range_users WITH (security_invoker = true) AS
SELECT shop_id, property_id, first_day, last_day, sessions, users, new_users, sampled,
       updated_at
FROM core_warehouse.fact_web_traffic_range_totals;
GRANT SELECT ON reporting.web_traffic_range_users TO authenticated;
