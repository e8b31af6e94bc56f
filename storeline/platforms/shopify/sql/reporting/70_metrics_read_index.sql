-- The metrics API sums a range of days per shop from the rollup (metrics_kpis,
-- storeline/core/sql/reporting/queries/api_metrics.sql). The rollup is rewritten day by day for
-- every shop, so one shop's days lie on as many heap pages as it has days; this covering index
-- answers the sums from the index alone (bench/api.py: 200 shops x 365 days). Revision 0019.
CREATE INDEX shop_daily_kpis_reads ON reporting.shop_daily_kpis (shop_id, day)
    INCLUDE (orders, gross_sales, discounts, returns, net_sales, shipping, taxes, duties,
             additional_fees, total_sales);
