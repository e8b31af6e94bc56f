"""HubSpot CRM v3: a portal's deals, contacts, companies and deal pipelines
(docs/platforms/hubspot.md)."""
