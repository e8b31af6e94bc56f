-- Traffic per shop and range for the metrics API (reporting.web_traffic_daily in metrics_kpis):
-- a covering index on (shop_id, day) answers it from the index alone instead of one heap page
-- per day (bench/api.py). Revision 0019.
CREATE INDEX fact_web_traffic_day_totals_reads
    ON core_warehouse.fact_web_traffic_day_totals (shop_id, day)
    INCLUDE (property_timezone, currency, sessions, users, new_users, engaged_sessions,
             transactions, purchase_revenue);
