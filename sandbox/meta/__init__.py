"""Meta Marketing API sandbox: ad-account insights (sync and async report runs) for every shop.

`app.create_app(world)` serves the Graph API; `generate`/`structure` hold the deterministic data;
`oracle.daily` computes the per-day totals the warehouse must match.
"""
