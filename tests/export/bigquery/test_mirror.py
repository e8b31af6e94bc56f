"""The BigQuery mirror end to end on the emulator: each shop in its own dataset, only changed
rows moved, deletions propagated, replays never duplicate, the reporting views run there.

The tests are one story in order over a module's database (the first adds the shops, the next
change them), so they run on one xdist worker: scripts/test distributes by module
(--dist loadscope)."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from google.cloud import bigquery

from sandbox.bigquery import PROJECT
from storeline.export.bigquery.settings import BigQuerySettings
from storeline.export.bigquery.tables import load as load_tables
from tests.export.bigquery.conftest import SHOP_A, SHOP_B, WORLD, add_shop, export, rows


async def pg_counts(conn: asyncpg.Connection, shop: str) -> dict[str, int]:
    tables = await load_tables(conn)
    return {
        name: await conn.fetchval(f"SELECT count(*) FROM {t.source} WHERE shop_id = $1", shop)
        for name, t in tables.items()
    }


def bq_counts(bq: bigquery.Client, dataset: str, names: list[str]) -> dict[str, int]:
    union = " UNION ALL ".join(
        f"SELECT '{n}' AS t, count(*) AS n FROM `{PROJECT}.{dataset}.{n}`" for n in names
    )
    return {r["t"]: r["n"] for r in rows(bq, union)}


async def test_each_shop_is_mirrored_into_its_own_dataset(
    module_dsn: str,
    module_conn: asyncpg.Connection,
    bq_settings: BigQuerySettings,
    bq: bigquery.Client,
) -> None:
    await add_shop(module_conn, SHOP_A, 60, "USD", "America/New_York")
    await add_shop(module_conn, SHOP_B, 30, "EUR", "Europe/Berlin")
    # A shop never mirrored keeps no tombstones (its first export copies what exists).
    await module_conn.execute(
        "DELETE FROM core_warehouse.order_line_items WHERE shop_id = $1 AND id = 12", SHOP_A
    )
    assert await module_conn.fetchval("SELECT count(*) FROM core_warehouse.mirror_tombstones") == 0

    jobs = await export(module_dsn, [SHOP_A, SHOP_B])

    for shop in (SHOP_A, SHOP_B):
        job = jobs[shop]
        assert job["status"] == "SUCCEEDED", job["error"]
        dataset = bq_settings.dataset_id(shop)
        want = await pg_counts(module_conn, shop)
        assert bq_counts(bq, dataset, sorted(want)) == want
        assert job["records_synced"] == sum(want.values()) + 1  # + the shops row
        # Nothing of another shop: every table holds this shop's rows only.
        for name in want:
            shops = rows(bq, f"SELECT DISTINCT shop_id FROM `{PROJECT}.{dataset}.{name}`")
            assert {r["shop_id"] for r in shops} <= {shop}, name
    assert bq_settings.dataset_id(SHOP_A) == "storeline_alpha_myshopify_com"

    orders = bq.get_table(f"{PROJECT}.{bq_settings.dataset_id(SHOP_A)}.orders")
    assert orders.time_partitioning.field == "created_at"
    assert orders.clustering_fields == ["id"]
    lines = bq.get_table(f"{PROJECT}.{bq_settings.dataset_id(SHOP_A)}.order_line_items")
    assert lines.time_partitioning.field == "order_created_at"
    assert "raw" not in {f.name for f in lines.schema}
    line = rows(
        bq,
        f"SELECT original_unit_price, order_created_at FROM "
        f"`{PROJECT}.{bq_settings.dataset_id(SHOP_A)}.order_line_items` WHERE id = 11",
    )[0]
    assert line["original_unit_price"] == Decimal("10.123456789")  # NUMERIC's 9 decimals
    assert line["order_created_at"] is not None
    order = rows(
        bq, f"SELECT tags FROM `{PROJECT}.{bq_settings.dataset_id(SHOP_A)}.orders` WHERE id = 1"
    )[0]
    assert order["tags"] == ["tag1"]


async def test_only_changed_rows_move_and_deletions_propagate(
    module_dsn: str,
    module_conn: asyncpg.Connection,
    bq_settings: BigQuerySettings,
    bq: bigquery.Client,
) -> None:
    dataset = bq_settings.dataset_id(SHOP_A)
    before_b = bq_counts(bq, bq_settings.dataset_id(SHOP_B), ["orders", "order_line_items"])
    touched = await module_conn.fetchval(WORLD["world_touch_orders"], SHOP_A, 10)  # 6 orders
    async with module_conn.transaction():
        # An order deleted at the source goes with its children (shopify_delete_orders).
        for table, column in (
            ("order_line_items", "order_id"),
            ("order_shipping_lines", "order_id"),
            ("transactions", "order_id"),
            ("orders", "id"),
        ):
            await module_conn.execute(
                f"DELETE FROM core_warehouse.{table} WHERE shop_id = $1 AND {column} = 7",
                SHOP_A,
            )
        # A Meta day replaced: both ads deleted, one written again with new numbers.
        await module_conn.execute(
            "DELETE FROM core_warehouse.fact_marketing_campaign_daily "
            "WHERE shop_id = $1 AND day = '2026-10-31'",
            SHOP_A,
        )
        await module_conn.execute(
            "INSERT INTO core_warehouse.fact_marketing_campaign_daily (shop_id, platform, "
            "account_id, ad_id, day, currency, spend, raw, sync_job_id) "
            "VALUES ($1, 'META', 'act_1', 'ad_1', '2026-10-31', 'USD', 99.99, '{}', 3)",
            SHOP_A,
        )

    job = (await export(module_dsn, [SHOP_A]))[SHOP_A]

    assert job["status"] == "SUCCEEDED", job["error"]
    moved = job["progress"]["mirror"]["tables"]
    # The touched orders and their two lines each; order 7 and its 4 children; the Meta day:
    # one ad rewritten, one deleted. Nothing else.
    assert moved == {
        "orders": touched + 1,
        "order_line_items": 2 * touched + 2,
        "order_shipping_lines": 1,
        "transactions": 1,
        "fact_marketing_campaign_daily": 2,
    }
    assert bq_counts(bq, dataset, sorted(await pg_counts(module_conn, SHOP_A))) == await pg_counts(
        module_conn, SHOP_A
    )
    assert rows(bq, f"SELECT id FROM `{PROJECT}.{dataset}.orders` WHERE id = 7") == []
    assert rows(
        bq,
        f"SELECT count(*) AS n FROM `{PROJECT}.{dataset}.orders` "
        "WHERE financial_status = 'PARTIALLY_REFUNDED'",
    ) == [{"n": touched}]
    day = rows(
        bq,
        f"SELECT ad_id, spend FROM `{PROJECT}.{dataset}.fact_marketing_campaign_daily` "
        "WHERE day = '2026-10-31'",
    )
    assert day == [{"ad_id": "ad_1", "spend": Decimal("99.99")}]
    # The other shop's dataset did not move.
    assert bq_counts(bq, bq_settings.dataset_id(SHOP_B), ["orders", "order_line_items"]) == (
        before_b
    )
    # Tombstones every target has passed are pruned. A table's watermark stops below any
    # transaction in flight anywhere in the cluster when its changes are read (an autovacuum
    # under load), so one export may keep some; a later one, with nothing new, must prune them.
    tombstones = "SELECT count(*) FROM core_warehouse.mirror_tombstones WHERE shop_id = $1"
    for _ in range(5):
        if await module_conn.fetchval(tombstones, SHOP_A) == 0:
            break
        assert (await export(module_dsn, [SHOP_A]))[SHOP_A]["status"] == "SUCCEEDED"
    assert await module_conn.fetchval(tombstones, SHOP_A) == 0


async def test_a_replayed_export_never_duplicates(
    module_dsn: str,
    module_conn: asyncpg.Connection,
    bq_settings: BigQuerySettings,
    bq: bigquery.Client,
) -> None:
    """A crash after the MERGEs but before the watermarks committed: the retry sends every row
    again and the mirror still holds each once."""
    await module_conn.execute(
        "UPDATE app_dashboard.mirror_watermarks SET version = -1 WHERE shop_id = $1", SHOP_A
    )
    job = (await export(module_dsn, [SHOP_A]))[SHOP_A]
    assert job["status"] == "SUCCEEDED", job["error"]
    dataset = bq_settings.dataset_id(SHOP_A)
    want = await pg_counts(module_conn, SHOP_A)
    assert bq_counts(bq, dataset, sorted(want)) == want
    assert rows(
        bq,
        "SELECT count(*) AS n, count(DISTINCT id) AS k "
        f"FROM `{PROJECT}.{dataset}.order_line_items`",
    ) == [{"n": want["order_line_items"], "k": want["order_line_items"]}]
    # Nothing changed since: the next export moves nothing and runs no load job.
    again = (await export(module_dsn, [SHOP_A]))[SHOP_A]
    assert again["progress"]["mirror"]["rows"] == 0
    assert again["progress"]["mirror"]["load_jobs"] == 0


async def test_every_reporting_view_transpiles_and_runs(
    module_dsn: str,
    module_conn: asyncpg.Connection,
    bq_settings: BigQuerySettings,
    bq: bigquery.Client,
) -> None:
    dataset = bq_settings.dataset_id(SHOP_A)
    views = [
        r["view_name"]
        for r in await module_conn.fetch(
            "SELECT c.relname AS view_name FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'reporting' AND c.relkind = 'v'"
        )
    ]
    mirrored = {
        t.table_id
        for t in bq.list_tables(f"{PROJECT}.{dataset}", page_size=1000)
        if t.table_type == "VIEW"
    }
    # Only views over bookkeeping stay behind: sync_status (the job tables) and the provisional
    # figures of a backfill in progress (reporting.shopify_order_coverage).
    behind = {
        "sync_status",
        "daily_figures",
        "monthly_figure_parts",
        "shopify_provisional_daily",
        "shopify_report_comparison",
    }
    assert mirrored == set(views) - behind
    for view in sorted(mirrored):
        rows(bq, f"SELECT * FROM `{PROJECT}.{dataset}.{view}` LIMIT 5")

    # The same numbers in both places.
    for view, sql in (
        ("daily_revenue", "SELECT sum(total_sales) AS a, sum(aov) AS b FROM {t}"),
        ("pipeline_summary", "SELECT sum(open_amount) AS a, sum(weighted_amount) AS b FROM {t}"),
        ("pipeline_daily", "SELECT sum(deals_won) AS a, sum(won_amount) AS b FROM {t}"),
        ("marketing_daily", "SELECT sum(spend) AS a, sum(roas) AS b FROM {t}"),
        ("web_traffic_daily", "SELECT sum(sessions) AS a, sum(engagement_rate) AS b FROM {t}"),
        ("ad_accounts", "SELECT count(*) AS a, max(last_day) AS b FROM {t}"),
    ):
        pg = await module_conn.fetchrow(
            sql.format(t=f"reporting.{view}") + " WHERE shop_id = $1", SHOP_A
        )
        got = rows(bq, sql.format(t=f"`{PROJECT}.{dataset}.{view}`"))[0]
        assert (got["a"], got["b"]) == (pg["a"], pg["b"]), view


async def test_a_column_added_in_postgres_reaches_bigquery(
    module_dsn: str,
    module_conn: asyncpg.Connection,
    bq_settings: BigQuerySettings,
    bq: bigquery.Client,
) -> None:
    """Schema changes are add-only: a later revision's new column appears, nullable, on the
    next export, and the rows written since carry it."""
    await module_conn.execute("ALTER TABLE core_warehouse.crm_companies ADD COLUMN website text")
    await module_conn.execute(
        "UPDATE core_warehouse.crm_companies SET website = 'https://co.example' WHERE shop_id = $1",
        SHOP_A,
    )
    job = (await export(module_dsn, [SHOP_A]))[SHOP_A]
    assert job["status"] == "SUCCEEDED", job["error"]
    dataset = bq_settings.dataset_id(SHOP_A)
    table = bq.get_table(f"{PROJECT}.{dataset}.crm_companies")
    assert table.schema[-1].name == "website"
    assert table.schema[-1].mode == "NULLABLE"
    got = rows(bq, f"SELECT company_id, website FROM `{PROJECT}.{dataset}.crm_companies`")
    assert got == [{"company_id": "co1", "website": "https://co.example"}]
