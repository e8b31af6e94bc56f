"""The month totals the metrics API reads (revision 0028) never go stale: after rollup refreshes,
a timezone restamp that moves days across month ends, updates and deletions, every month row
equals the sum of its day rows, and metrics_kpis over whole months answers what summing
reporting.daily_figures day by day answers, provisional days included."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

from storeline.core.sql import queries
from storeline.platforms.shopify.rollup import refresh_rollups

SHOP = "months.myshopify.com"

# Each source: its month table's sums against its day rows regrouped by month; any row listed is
# a stale (or missing, or extra) month.
STALE = {
    "revenue": """
        SELECT coalesce(m.shop_id, d.shop_id), coalesce(m.month, d.month)
        FROM reporting.shop_monthly_kpis AS m
        FULL JOIN (
            SELECT shop_id, date_trunc('month', day)::date AS month, count(*) AS days,
                   sum(orders) AS orders, sum(gross_sales) AS gross_sales,
                   sum(discounts) AS discounts, sum(taxes) AS taxes, sum(shipping) AS shipping,
                   sum(total_sales) AS total_sales
            FROM reporting.shop_daily_kpis GROUP BY 1, 2
        ) AS d ON d.shop_id = m.shop_id AND d.month = m.month
        WHERE (m.days, m.orders, m.gross_sales, m.discounts, m.taxes, m.shipping,
               m.total_sales)::text IS DISTINCT FROM
              (d.days, d.orders, d.gross_sales, d.discounts, d.taxes, d.shipping,
               d.total_sales)::text""",
    "marketing": """
        SELECT coalesce(m.shop_id, d.shop_id), coalesce(m.month, d.month)
        FROM reporting.marketing_monthly_totals AS m
        FULL JOIN (
            SELECT shop_id, platform, currency, date_trunc('month', day)::date AS month,
                   count(*) AS days, sum(spend) AS spend, sum(purchase_value) AS value
            FROM core_warehouse.fact_marketing_daily GROUP BY 1, 2, 3, 4
        ) AS d ON (d.shop_id, d.platform, d.currency, d.month)
                = (m.shop_id, m.platform, m.currency, m.month)
        WHERE (m.days, m.spend, m.purchase_value)::text
              IS DISTINCT FROM (d.days, d.spend, d.value)::text""",
    "traffic": """
        SELECT coalesce(m.shop_id, d.shop_id), coalesce(m.month, d.month)
        FROM reporting.web_traffic_monthly_totals AS m
        FULL JOIN (
            SELECT shop_id, property_id, property_timezone, currency,
                   date_trunc('month', day)::date AS month, count(*) AS days,
                   sum(sessions) AS sessions, sum(users) AS users,
                   sum(purchase_revenue) AS revenue
            FROM core_warehouse.fact_web_traffic_day_totals GROUP BY 1, 2, 3, 4, 5
        ) AS d ON (d.shop_id, d.property_id, d.month) = (m.shop_id, m.property_id, m.month)
              AND d.property_timezone IS NOT DISTINCT FROM m.property_timezone
              AND d.currency IS NOT DISTINCT FROM m.currency
        WHERE (m.days, m.sessions, m.users, m.purchase_revenue)::text
              IS DISTINCT FROM (d.days, d.sessions, d.users, d.revenue)::text""",
}

# Orders at 23:30 UTC on the last day of a month and 00:30 UTC on the first: a timezone change
# moves them across the month end. Prices with 3 decimals on some days (a sum's scale matters:
# amounts are rendered as decimal strings).
ORDERS = """
INSERT INTO core_warehouse.orders
    (shop_id, id, name, created_at, processed_at, processed_date, updated_at, currency,
     taxes_included, financial_status, total_price, current_total_price, raw, sync_job_id)
SELECT $1, i, '#' || i, ts, ts, (ts AT TIME ZONE 'UTC')::date, ts, 'EUR', false, 'paid',
       price, price, '{}', 0
FROM generate_series(1, 120) AS i,
     LATERAL (SELECT timestamptz '2026-01-01 00:30+00' + (i / 2) * interval '1 day'
                     - (i % 2) * interval '1 hour' AS ts,
                     CASE WHEN i % 7 = 0 THEN 10.125 ELSE 12.5 END AS price) AS t;
INSERT INTO core_warehouse.order_line_items
    (shop_id, id, order_id, quantity, original_unit_price, original_total, total_discount,
     discounted_total, total_tax, raw, sync_job_id)
SELECT o.shop_id, o.id, o.id, 1, o.total_price, o.total_price, 0, o.total_price, 1, '{}', 0
FROM core_warehouse.orders AS o WHERE o.shop_id = $1
"""


async def stale(conn: asyncpg.Connection) -> dict[str, list[tuple[object, ...]]]:
    return {
        name: [tuple(r) for r in await conn.fetch(sql)]
        for name, sql in STALE.items()
        if await conn.fetch(sql)
    }


async def kpis(conn: asyncpg.Connection, first: date, last: date) -> dict[str, object]:
    row = await conn.fetchrow(queries("reporting")["metrics_kpis"], [SHOP], [first], [last], 15)
    assert row is not None
    return dict(row)


async def test_month_totals_follow_refreshes_restamps_and_deletions(
    conn: asyncpg.Connection,
) -> None:
    await conn.execute(
        """WITH a AS (INSERT INTO app_dashboard.agencies (name) VALUES ('Months') RETURNING id)
           INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id)
           SELECT $1, 'Months', 'EUR', 'UTC', id FROM a""",
        SHOP,
    )
    for statement in ORDERS.split(";"):
        await conn.execute(statement, SHOP)
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(62)]
    await refresh_rollups(conn, shop_id=SHOP, dates=days)
    assert await conn.fetchval("SELECT count(*) FROM reporting.shop_monthly_kpis") == 3
    assert await stale(conn) == {}

    # Ad spend and GA4 day totals: inserted, replaced (the attribution window), deleted.
    await conn.execute(
        """INSERT INTO core_warehouse.fact_marketing_daily
               (shop_id, platform, day, currency, spend, purchase_value)
           SELECT $1, 'META', d::date, c, 10.5, 30 FROM generate_series(
               date '2026-01-20', date '2026-03-10', interval '1 day') AS d,
               unnest(ARRAY['EUR', 'USD']) AS c;
           INSERT INTO core_warehouse.fact_web_traffic_day_totals
               (shop_id, property_id, day, property_timezone, currency, sessions, users,
                purchase_revenue, sync_job_id)
           SELECT $1, '1', d::date, CASE WHEN d < '2026-02-15' THEN 'UTC' END, 'EUR', 100, 70,
                  5.25, 0
           FROM generate_series(date '2026-01-20', date '2026-03-10', interval '1 day') AS d"""
        .replace("$1", f"'{SHOP}'")
    )  # fmt: skip
    await conn.execute(
        """UPDATE core_warehouse.fact_marketing_daily SET spend = spend + 0.125
           WHERE day >= '2026-01-30';
           DELETE FROM core_warehouse.fact_marketing_daily WHERE day < '2026-02-02';
           UPDATE core_warehouse.fact_web_traffic_day_totals
           SET property_timezone = 'Europe/Berlin', sessions = sessions + 1
           WHERE day BETWEEN '2026-01-25' AND '2026-02-20';
           DELETE FROM core_warehouse.fact_web_traffic_day_totals WHERE day >= '2026-03-01'"""
    )
    assert await stale(conn) == {}

    # A timezone change restamps every day: orders at the month ends change months.
    before = await conn.fetch(
        "SELECT month, orders FROM reporting.shop_monthly_kpis ORDER BY month"
    )
    await conn.execute(
        "UPDATE app_dashboard.shops SET timezone = 'Pacific/Kiritimati' WHERE id = $1", SHOP
    )
    after = await conn.fetch("SELECT month, orders FROM reporting.shop_monthly_kpis ORDER BY month")
    assert [tuple(r) for r in after] != [tuple(r) for r in before]
    assert await stale(conn) == {}

    # Orders deleted: the refresh removes emptied days; a whole month can go.
    await conn.execute(
        "UPDATE core_warehouse.orders SET deleted_at = now() WHERE processed_date >= '2026-02-01'"
    )
    await refresh_rollups(conn, shop_id=SHOP, dates=[*days, date(2026, 3, 1), date(2026, 3, 2)])
    assert await stale(conn) == {}
    assert await conn.fetchval("SELECT count(*) FROM reporting.shop_monthly_kpis") == 1

    # Whole months read from the totals answer what the days answer, provisional days too:
    # Shopify's own figure for days the order-level data does not reach (2026-01-20 on).
    await conn.execute(
        """UPDATE core_warehouse.orders SET deleted_at = NULL;
           INSERT INTO reporting.shopify_order_coverage (shop_id, covered_until)
           VALUES ($1, '2026-01-19 12:00+00');
           INSERT INTO reporting.shopify_reported_daily
               (shop_id, day, orders, gross_sales, discounts, returns, net_sales, shipping,
                taxes, total_sales)
           SELECT $1, d::date, 3, 30.5, 1, 0, 29.5, 0, 2, 31.5
           FROM generate_series(date '2026-01-28', date '2026-02-05', interval '1 day') AS d"""
        .replace("$1", f"'{SHOP}'")
    )  # fmt: skip
    await refresh_rollups(conn, shop_id=SHOP, dates=days)
    assert await stale(conn) == {}
    one_day = [await kpis(conn, d, d) for d in days[:59]]
    whole = await kpis(conn, date(2026, 1, 1), date(2026, 2, 28))
    # Days around a whole month (January 9-31, then February), and no whole month at all.
    partial = await kpis(conn, date(2026, 1, 9), date(2026, 2, 28))
    days_only = await kpis(conn, date(2026, 1, 9), date(2026, 2, 27))
    for column in ("orders", "gross_sales", "discounts", "total_sales", "ad_spend", "sessions",
                   "new_users", "provisional_days"):  # fmt: skip
        assert whole[column] == sum(k[column] for k in one_day if k[column] is not None), column
        for got, picked in ((partial, one_day[8:59]), (days_only, one_day[8:58])):
            assert got[column] == sum(k[column] for k in picked if k[column] is not None), column
    # The mean of the days' own user counts, from month totals and days alike.
    users = [k["avg_daily_users"] for k in one_day[8:59] if k["avg_daily_users"] is not None]
    assert partial["avg_daily_users"] == round(sum(users) / len(users), 2)
    assert whole["provisional_days"] == 9
    assert str(whole["total_sales"]) == str(
        await conn.fetchval(
            "SELECT sum(total_sales) FROM reporting.daily_figures WHERE shop_id = $1 "
            "AND day BETWEEN '2026-01-01' AND '2026-02-28'",
            SHOP,
        )
    )
