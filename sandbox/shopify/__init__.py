"""Shopify GraphQL Admin API 2026-01, locally: the same requests, answers, bulk operations and
failure modes as `<handle>.myshopify.com`, over the deterministic sandbox world.

`app.create_app(world)` is the ASGI app; `model`/`generate` (the data) feed `views` (objects as
the API renders them), which `resolvers` serve synchronously and `bulk` writes as JSONL.
"""
