-- HubSpot facts: one row per CRM object of a shop's portal, its latest version by HubSpot's
-- updatedAt (a version older than the stored one never overwrites it: search overlaps and
-- search bodies newer than their window are re-read, docs/platforms/hubspot.md item 10).
-- Archived objects stay as soft deletes (`archived`, `archived_at`); reports leave them out.
-- `raw` keeps the object as HubSpot returned it.

-- Deal pipeline stages: closed flag, probability and order from the pipelines API. Won means
-- closed with probability 1 (HubSpot's rule; custom stages have numeric ids, so never a
-- hardcoded "closedwon").
CREATE TABLE core_warehouse.crm_pipeline_stages (
    shop_id        text NOT NULL,
    pipeline_id    text NOT NULL,
    stage_id       text NOT NULL,
    pipeline_label text,
    pipeline_order integer,
    stage_label    text,
    stage_order    integer,
    probability    numeric,
    is_closed      boolean NOT NULL,
    is_won         boolean GENERATED ALWAYS AS (is_closed AND probability = 1) STORED,
    archived       boolean NOT NULL DEFAULT false,
    raw            jsonb NOT NULL,
    sync_job_id    bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, pipeline_id, stage_id)
);
SELECT storeline_private.enable_shop_rls('core_warehouse.crm_pipeline_stages');

-- Deals. `amount` is NULL when never set or cleared (""); `currency` is the deal's own
-- (deal_currency_code), which may differ from the shop's: reports never sum it with the shop's.
CREATE TABLE core_warehouse.crm_deals (
    shop_id           text NOT NULL,
    deal_id           text NOT NULL,
    deal_name         text,
    pipeline_id       text,
    stage_id          text,
    amount            numeric,
    currency          text,
    close_date        timestamptz,
    owner_id          text,
    is_closed_won     boolean,
    stage_probability numeric,
    deal_type         text,
    renewal_date      date,
    contact_ids       text[],
    company_ids       text[],
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    archived          boolean NOT NULL DEFAULT false,
    archived_at       timestamptz,
    raw               jsonb NOT NULL,
    sync_job_id       bigint NOT NULL,
    loaded_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, deal_id)
);
SELECT storeline_private.enable_shop_rls('core_warehouse.crm_deals');
CREATE INDEX crm_deals_shop_stage_idx ON core_warehouse.crm_deals (shop_id, pipeline_id, stage_id)
    WHERE NOT archived;

CREATE TABLE core_warehouse.crm_contacts (
    shop_id         text NOT NULL,
    contact_id      text NOT NULL,
    email           text,
    first_name      text,
    last_name       text,
    lifecycle_stage text,
    owner_id        text,
    company_ids     text[],
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    archived        boolean NOT NULL DEFAULT false,
    archived_at     timestamptz,
    raw             jsonb NOT NULL,
    sync_job_id     bigint NOT NULL,
    loaded_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, contact_id)
);
SELECT storeline_private.enable_shop_rls('core_warehouse.crm_contacts');

CREATE TABLE core_warehouse.crm_companies (
    shop_id     text NOT NULL,
    company_id  text NOT NULL,
    name        text,
    domain      text,
    industry    text,
    employees   integer,
    owner_id    text,
    city        text,
    country     text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    archived    boolean NOT NULL DEFAULT false,
    archived_at timestamptz,
    raw         jsonb NOT NULL,
    sync_job_id bigint NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, company_id)
);
SELECT storeline_private.enable_shop_rls('core_warehouse.crm_companies');
