-- Spend per shop and range for the metrics API (reporting.marketing_daily in metrics_kpis): the
-- primary key leads with (shop_id, platform), so a range of days was read from the heap row by
-- row; this covering index answers it from the index alone (bench/api.py). Revision 0019.
CREATE INDEX fact_marketing_daily_reads ON core_warehouse.fact_marketing_daily (shop_id, day)
    INCLUDE (platform, currency, spend, purchase_value);
