-- A shop's timezone change restamps its history (revision 0005). Shopify's reports bucket every
-- order and refund by the shop's CURRENT timezone, so the stored shop-local days
-- (orders.processed_date, refunds.refund_date) follow app_dashboard.shops.timezone: an AFTER
-- UPDATE trigger recomputes them for that shop and rebuilds the shop's whole revenue rollup in
-- the same transaction as the change (the connector's shop-profile sync, or a user's edit).
--
-- SECURITY DEFINER because members may update their shop (RLS) but never write the warehouse;
-- search_path is pinned and every name is qualified. Nested loops are off for the rebuild: it
-- aggregates the shop's whole history, where hash joins win. The transform locks the shop row
-- (FOR SHARE, shopify_shop_timezone) for the rest of its transaction, so a change waits for a
-- running transform instead of racing it with the old timezone.

CREATE FUNCTION storeline_private.shopify_restamp_shop(p_shop_id text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog
    SET enable_nestloop = off
AS $$
DECLARE
    tz    text;
    moved integer;
    n     integer;
BEGIN
    SELECT s.timezone INTO tz FROM app_dashboard.shops AS s WHERE s.id = p_shop_id;
    IF tz IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE core_warehouse.orders AS o
    SET processed_date = (o.processed_at AT TIME ZONE tz)::date
    WHERE o.shop_id = p_shop_id AND o.processed_date <> (o.processed_at AT TIME ZONE tz)::date;
    GET DIAGNOSTICS moved = ROW_COUNT;
    UPDATE core_warehouse.refunds AS r
    SET refund_date = (r.created_at AT TIME ZONE tz)::date
    WHERE r.shop_id = p_shop_id AND r.refund_date <> (r.created_at AT TIME ZONE tz)::date;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM reporting.shop_daily_kpis AS k WHERE k.shop_id = p_shop_id;
    INSERT INTO reporting.shop_daily_kpis (
        shop_id, day, orders, gross_sales, discounts, returns, net_sales, shipping, taxes,
        duties, additional_fees, total_sales, refreshed_at)
    SELECT p_shop_id, t.day, t.orders, t.gross_sales, t.discounts, t.returns, t.net_sales,
           t.shipping, t.taxes, t.duties, t.additional_fees, t.total_sales, pg_catalog.now()
    FROM reporting.shopify_daily_kpis(p_shop_id, ARRAY(
        SELECT o.processed_date FROM core_warehouse.orders AS o WHERE o.shop_id = p_shop_id
        UNION
        SELECT r.refund_date FROM core_warehouse.refunds AS r WHERE r.shop_id = p_shop_id
    )) AS t;
    RETURN moved + n;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.shopify_restamp_shop(text) FROM PUBLIC;

CREATE FUNCTION storeline_private.shops_timezone_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog
AS $$
BEGIN
    PERFORM storeline_private.shopify_restamp_shop(NEW.id);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION storeline_private.shops_timezone_changed() FROM PUBLIC;

CREATE TRIGGER shops_timezone_restamp
    AFTER UPDATE OF timezone ON app_dashboard.shops
    FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
    EXECUTE FUNCTION storeline_private.shops_timezone_changed();
