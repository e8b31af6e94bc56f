"""Meta Marketing API (Graph v24.0-v26.0) sandbox: ad-account insights for every sandbox shop.

Endpoints (token: `access_token` query/form param or `Authorization: Bearer|OAuth <token>`):
- `GET  /v26.0/act_{n}`                 AdAccount node (name, currency, timezone_name, ...)
- `GET  /v26.0/me`, `/v26.0/me/adaccounts`
- `GET  /v26.0/act_{n}/insights`        sync insights, cursor paging (`paging.next` absolute)
- `POST /v26.0/act_{n}/insights`        async report run -> `{"report_run_id": "<16 digits>"}`
- `GET  /v26.0/{report_run_id}`         `async_status` / `async_percent_completion`, one step a poll
- `GET  /v26.0/{report_run_id}/insights` the run's rows, paged like the sync edge

Modules: `structure` (campaign tree), `generate` (per ad-day facts and clock visibility),
`delivery` (figures by attribution window; reach de-duplicated), `params`/`render`/`paging`
(the protocol), `reports` (async runs), `usage` (rate-limit headers), `errors` (Graph error
bodies), `app` (`create_app(world)`), `oracle` (`daily(world, shop, from, to)`; `reach(...)`
at a grain).
Real behaviours modelled, with sources: docs/platforms/meta.md.
"""
