-- The HubSpot connector's statements (worker/connectors/hubspot/connector.py). Each upsert reads
-- the job's staged versions of one kind ($1 shop, $2 job), keeps the newest per id (by
-- updatedAt; at a tie a list read, which carries associations, beats a search hit; then the
-- last line), and writes it unless the stored version is newer: overlapping windows and
-- re-sent lines never duplicate a row nor bring an older version back.

-- name: hubspot_upsert_stages
-- Every stage of the pipelines this job read; stages no longer listed are marked archived.
WITH pipelines AS (
    SELECT DISTINCT ON (object_id) payload -> 'object' AS p
    FROM staging_ingest.hubspot_raw
    WHERE sync_job_id = $2 AND kind = 'pipelines'
    ORDER BY object_id, line_no DESC
),
stages AS (
    SELECT p ->> 'id' AS pipeline_id, p ->> 'label' AS pipeline_label,
           (p ->> 'displayOrder')::integer AS pipeline_order, s
    FROM pipelines CROSS JOIN LATERAL jsonb_array_elements(p -> 'stages') AS s
),
written AS (
    INSERT INTO core_warehouse.crm_pipeline_stages AS t (
        shop_id, pipeline_id, stage_id, pipeline_label, pipeline_order, stage_label,
        stage_order, probability, is_closed, archived, raw, sync_job_id)
    SELECT $1, pipeline_id, s ->> 'id', pipeline_label, pipeline_order, s ->> 'label',
           (s ->> 'displayOrder')::integer,
           storeline_private.hubspot_number(s -> 'metadata' ->> 'probability'),
           coalesce((s -> 'metadata' ->> 'isClosed')::boolean, false),
           coalesce((s ->> 'archived')::boolean, false), s, $2
    FROM stages
    ON CONFLICT (shop_id, pipeline_id, stage_id) DO UPDATE SET
        pipeline_label = excluded.pipeline_label, pipeline_order = excluded.pipeline_order,
        stage_label = excluded.stage_label, stage_order = excluded.stage_order,
        probability = excluded.probability, is_closed = excluded.is_closed,
        archived = excluded.archived, raw = excluded.raw, sync_job_id = excluded.sync_job_id,
        updated_at = now()
    RETURNING t.pipeline_id, t.stage_id
)
UPDATE core_warehouse.crm_pipeline_stages AS t SET archived = true, updated_at = now()
WHERE t.shop_id = $1 AND NOT t.archived AND EXISTS (SELECT FROM written)
  AND (t.pipeline_id, t.stage_id) NOT IN (SELECT pipeline_id, stage_id FROM written)

-- name: hubspot_upsert_deals
WITH latest AS (
    SELECT DISTINCT ON (object_id) payload ->> 'source' AS source, payload -> 'object' AS o
    FROM staging_ingest.hubspot_raw
    WHERE sync_job_id = $2 AND kind = 'deals'
    ORDER BY object_id, (payload -> 'object' ->> 'updatedAt')::timestamptz DESC,
             payload ->> 'source' = 'search', line_no DESC
)
INSERT INTO core_warehouse.crm_deals AS t (
    shop_id, deal_id, deal_name, pipeline_id, stage_id, amount, currency, close_date, owner_id,
    is_closed_won, stage_probability, deal_type, renewal_date, contact_ids, company_ids,
    created_at, updated_at, archived, archived_at, raw, sync_job_id, amount_in_company_currency)
SELECT $1, o ->> 'id', p ->> 'dealname', p ->> 'pipeline', p ->> 'dealstage',
       storeline_private.hubspot_number(p ->> 'amount'), nullif(p ->> 'deal_currency_code', ''),
       storeline_private.hubspot_datetime(p ->> 'closedate'), nullif(p ->> 'hubspot_owner_id', ''),
       (nullif(p ->> 'hs_is_closed_won', ''))::boolean,
       storeline_private.hubspot_number(p ->> 'hs_deal_stage_probability'),
       nullif(p ->> 'dealtype', ''), storeline_private.hubspot_date(p ->> 'renewal_date'),
       CASE WHEN source <> 'search' THEN storeline_private.hubspot_links(o, 'contacts') END,
       CASE WHEN source <> 'search' THEN storeline_private.hubspot_links(o, 'companies') END,
       (o ->> 'createdAt')::timestamptz, (o ->> 'updatedAt')::timestamptz,
       coalesce((o ->> 'archived')::boolean, false), (o ->> 'archivedAt')::timestamptz, o, $2,
       storeline_private.hubspot_number(p ->> 'amount_in_home_currency')
FROM latest CROSS JOIN LATERAL (SELECT o -> 'properties' AS p) AS x
ON CONFLICT (shop_id, deal_id) DO UPDATE SET
    deal_name = excluded.deal_name, pipeline_id = excluded.pipeline_id,
    stage_id = excluded.stage_id, amount = excluded.amount, currency = excluded.currency,
    close_date = excluded.close_date, owner_id = excluded.owner_id,
    is_closed_won = excluded.is_closed_won, stage_probability = excluded.stage_probability,
    deal_type = excluded.deal_type, renewal_date = excluded.renewal_date,
    -- A search hit carries no associations: keep the ones a list read stored.
    contact_ids = coalesce(excluded.contact_ids, t.contact_ids),
    company_ids = coalesce(excluded.company_ids, t.company_ids),
    created_at = excluded.created_at, updated_at = excluded.updated_at,
    archived = excluded.archived, archived_at = excluded.archived_at, raw = excluded.raw,
    amount_in_company_currency = excluded.amount_in_company_currency,
    sync_job_id = excluded.sync_job_id, loaded_at = now()
WHERE excluded.updated_at >= t.updated_at

-- name: hubspot_company_currency
-- The portal's company currency from this job's account details ($1 shop, $2 job) on every
-- deal of the shop: it is the currency of a deal without deal_currency_code, and what
-- amount_in_company_currency is in. Nothing changes when the job could not read the details.
WITH account AS (
    SELECT nullif(payload -> 'object' ->> 'companyCurrency', '') AS currency
    FROM staging_ingest.hubspot_raw
    WHERE sync_job_id = $2 AND kind = 'account'
    ORDER BY line_no DESC
    LIMIT 1
)
UPDATE core_warehouse.crm_deals AS d SET company_currency = a.currency
FROM account AS a
WHERE d.shop_id = $1 AND a.currency IS NOT NULL
  AND d.company_currency IS DISTINCT FROM a.currency

-- name: hubspot_upsert_contacts
WITH latest AS (
    SELECT DISTINCT ON (object_id) payload ->> 'source' AS source, payload -> 'object' AS o
    FROM staging_ingest.hubspot_raw
    WHERE sync_job_id = $2 AND kind = 'contacts'
    ORDER BY object_id, (payload -> 'object' ->> 'updatedAt')::timestamptz DESC,
             payload ->> 'source' = 'search', line_no DESC
)
INSERT INTO core_warehouse.crm_contacts AS t (
    shop_id, contact_id, email, first_name, last_name, lifecycle_stage, owner_id, company_ids,
    created_at, updated_at, archived, archived_at, raw, sync_job_id)
SELECT $1, o ->> 'id', nullif(p ->> 'email', ''), nullif(p ->> 'firstname', ''),
       nullif(p ->> 'lastname', ''), nullif(p ->> 'lifecyclestage', ''),
       nullif(p ->> 'hubspot_owner_id', ''),
       CASE WHEN source <> 'search' THEN storeline_private.hubspot_links(o, 'companies') END,
       (o ->> 'createdAt')::timestamptz, (o ->> 'updatedAt')::timestamptz,
       coalesce((o ->> 'archived')::boolean, false), (o ->> 'archivedAt')::timestamptz, o, $2
FROM latest CROSS JOIN LATERAL (SELECT o -> 'properties' AS p) AS x
ON CONFLICT (shop_id, contact_id) DO UPDATE SET
    email = excluded.email, first_name = excluded.first_name, last_name = excluded.last_name,
    lifecycle_stage = excluded.lifecycle_stage, owner_id = excluded.owner_id,
    company_ids = coalesce(excluded.company_ids, t.company_ids),
    created_at = excluded.created_at, updated_at = excluded.updated_at,
    archived = excluded.archived, archived_at = excluded.archived_at, raw = excluded.raw,
    sync_job_id = excluded.sync_job_id, loaded_at = now()
WHERE excluded.updated_at >= t.updated_at

-- name: hubspot_upsert_companies
WITH latest AS (
    SELECT DISTINCT ON (object_id) payload -> 'object' AS o
    FROM staging_ingest.hubspot_raw
    WHERE sync_job_id = $2 AND kind = 'companies'
    ORDER BY object_id, (payload -> 'object' ->> 'updatedAt')::timestamptz DESC,
             payload ->> 'source' = 'search', line_no DESC
)
INSERT INTO core_warehouse.crm_companies AS t (
    shop_id, company_id, name, domain, industry, employees, owner_id, city, country,
    created_at, updated_at, archived, archived_at, raw, sync_job_id)
SELECT $1, o ->> 'id', nullif(p ->> 'name', ''), nullif(p ->> 'domain', ''),
       nullif(p ->> 'industry', ''),
       storeline_private.hubspot_number(p ->> 'numberofemployees')::integer,
       nullif(p ->> 'hubspot_owner_id', ''), nullif(p ->> 'city', ''), nullif(p ->> 'country', ''),
       (o ->> 'createdAt')::timestamptz, (o ->> 'updatedAt')::timestamptz,
       coalesce((o ->> 'archived')::boolean, false), (o ->> 'archivedAt')::timestamptz, o, $2
FROM latest CROSS JOIN LATERAL (SELECT o -> 'properties' AS p) AS x
ON CONFLICT (shop_id, company_id) DO UPDATE SET
    name = excluded.name, domain = excluded.domain, industry = excluded.industry,
    employees = excluded.employees, owner_id = excluded.owner_id, city = excluded.city,
    country = excluded.country, created_at = excluded.created_at,
    updated_at = excluded.updated_at, archived = excluded.archived,
    archived_at = excluded.archived_at, raw = excluded.raw,
    sync_job_id = excluded.sync_job_id, loaded_at = now()
WHERE excluded.updated_at >= t.updated_at

-- name: hubspot_searched
-- The objects of one kind this job's search found ($1 job, $2 kind): their associations are
-- read next (search cannot return them).
SELECT DISTINCT object_id
FROM staging_ingest.hubspot_raw
WHERE sync_job_id = $1 AND kind = $2 AND payload ->> 'source' = 'search'
ORDER BY object_id

-- name: hubspot_links_deals
-- The associations this job read by batch for deals it found by search ($1 shop, $2 job)
-- replace the stored ones (the read is newer than any list read of an earlier job).
WITH links AS (
    SELECT DISTINCT ON (object_id) object_id, payload -> 'object' AS o
    FROM staging_ingest.hubspot_raw
    WHERE sync_job_id = $2 AND kind = 'links' AND payload ->> 'of' = 'deals'
    ORDER BY object_id, line_no DESC
)
UPDATE core_warehouse.crm_deals AS d
SET contact_ids = storeline_private.hubspot_links(l.o, 'contacts'),
    company_ids = storeline_private.hubspot_links(l.o, 'companies')
FROM links AS l
WHERE d.shop_id = $1 AND d.deal_id = l.object_id

-- name: hubspot_links_contacts
-- As hubspot_links_deals, for contacts' companies.
WITH links AS (
    SELECT DISTINCT ON (object_id) object_id, payload -> 'object' AS o
    FROM staging_ingest.hubspot_raw
    WHERE sync_job_id = $2 AND kind = 'links' AND payload ->> 'of' = 'contacts'
    ORDER BY object_id, line_no DESC
)
UPDATE core_warehouse.crm_contacts AS c
SET company_ids = storeline_private.hubspot_links(l.o, 'companies')
FROM links AS l
WHERE c.shop_id = $1 AND c.contact_id = l.object_id
