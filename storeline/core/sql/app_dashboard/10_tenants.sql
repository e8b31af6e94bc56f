-- Agencies, users, shops and who may see which shop.
CREATE TABLE app_dashboard.agencies (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    stripe_customer_id     text UNIQUE,
    stripe_subscription_id text UNIQUE,
    -- Stripe's subscription statuses; an agency without one yet is 'active' (self-hosted).
    subscription_status    text NOT NULL DEFAULT 'active' CHECK (subscription_status IN (
        'active', 'trialing', 'past_due', 'unpaid', 'canceled', 'incomplete',
        'incomplete_expired', 'paused')),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app_dashboard.users (
    id         uuid PRIMARY KEY,  -- Supabase auth.uid()
    email      text NOT NULL UNIQUE CHECK (position('@' IN email) > 1),
    role       text NOT NULL CHECK (role IN ('AGENCY_OWNER', 'AGENCY_STAFF', 'STORE_USER')),
    agency_id  uuid REFERENCES app_dashboard.agencies (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_agency_idx ON app_dashboard.users (agency_id);

CREATE TABLE app_dashboard.shops (
    -- The normalized myshopify domain: lowercase, no scheme, no path.
    id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]*\.myshopify\.com$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    currency   char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- IANA name; days are bucketed in it, never in UTC. The trigger below rejects unknown zones.
    timezone   text NOT NULL,
    agency_id  uuid NOT NULL REFERENCES app_dashboard.agencies (id) ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shops_agency_idx ON app_dashboard.shops (agency_id);

CREATE FUNCTION storeline_private.check_timezone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = NEW.timezone) THEN
        RAISE EXCEPTION 'unknown time zone "%"', NEW.timezone
            USING ERRCODE = 'check_violation', HINT = 'use an IANA name such as Europe/Berlin';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER shops_timezone_valid BEFORE INSERT OR UPDATE OF timezone ON app_dashboard.shops
    FOR EACH ROW EXECUTE FUNCTION storeline_private.check_timezone();

CREATE TABLE app_dashboard.user_shops (
    user_id    uuid NOT NULL REFERENCES app_dashboard.users (id) ON DELETE CASCADE,
    shop_id    text NOT NULL REFERENCES app_dashboard.shops (id) ON DELETE CASCADE,
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, shop_id)
);
-- The PK indexes user_id (its leading column) for the policies; shop_id needs its own.
CREATE INDEX user_shops_shop_idx ON app_dashboard.user_shops (shop_id);
CREATE UNIQUE INDEX user_shops_one_default ON app_dashboard.user_shops (user_id) WHERE is_default;
