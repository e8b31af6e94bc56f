-- Platform credentials, encrypted at rest by the application (AES-GCM, storeline/crypto.py).
-- `authenticated` has no privilege on this table at all: users learn a platform's connection
-- state through reporting.sync_status, never through this table.
CREATE TABLE app_dashboard.shop_credentials (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop_id     text NOT NULL REFERENCES app_dashboard.shops (id) ON DELETE CASCADE,
    platform    text NOT NULL CHECK (platform IN ('SHOPIFY', 'META', 'GA4', 'HUBSPOT')),
    key_id      text NOT NULL,
    ciphertext  bytea NOT NULL,
    -- Non-secret account facts: Meta ad account ids, GA4 property id, HubSpot portal id, ...
    metadata    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
    status      text NOT NULL DEFAULT 'OK' CHECK (status IN ('OK', 'NEEDS_REAUTH')),
    status_reason text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shop_id, platform)
);
