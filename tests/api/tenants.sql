-- Agency A (shops a1, a2; owner linked to a1 and a2, staff and a store user to a1 only), agency B
-- (shop b1).
INSERT INTO app_dashboard.agencies (id, name) VALUES
    ('aaaaaaaa-0000-0000-0000-000000000000', 'A'),
    ('bbbbbbbb-0000-0000-0000-000000000000', 'B');
INSERT INTO app_dashboard.users (id, email, role, agency_id) VALUES
    ('00000000-0000-0000-0000-00000000000a', 'a@a.test', 'AGENCY_OWNER',
     'aaaaaaaa-0000-0000-0000-000000000000'),
    ('00000000-0000-0000-0000-0000000000a2', 's@a.test', 'AGENCY_STAFF',
     'aaaaaaaa-0000-0000-0000-000000000000'),
    ('00000000-0000-0000-0000-0000000000a3', 'u@a.test', 'STORE_USER',
     'aaaaaaaa-0000-0000-0000-000000000000'),
    ('00000000-0000-0000-0000-00000000000b', 'b@b.test', 'AGENCY_OWNER',
     'bbbbbbbb-0000-0000-0000-000000000000');
INSERT INTO app_dashboard.shops (id, name, currency, timezone, agency_id) VALUES
    ('a1.myshopify.com', 'A1', 'USD', 'America/New_York', 'aaaaaaaa-0000-0000-0000-000000000000'),
    ('a2.myshopify.com', 'A2', 'USD', 'America/New_York', 'aaaaaaaa-0000-0000-0000-000000000000'),
    ('b1.myshopify.com', 'B1', 'EUR', 'Europe/Berlin', 'bbbbbbbb-0000-0000-0000-000000000000');
INSERT INTO app_dashboard.user_shops (user_id, shop_id, is_default) VALUES
    ('00000000-0000-0000-0000-00000000000a', 'a1.myshopify.com', true),
    ('00000000-0000-0000-0000-00000000000a', 'a2.myshopify.com', false),
    ('00000000-0000-0000-0000-0000000000a2', 'a1.myshopify.com', false),
    ('00000000-0000-0000-0000-0000000000a3', 'a1.myshopify.com', false),
    ('00000000-0000-0000-0000-00000000000b', 'b1.myshopify.com', true);
