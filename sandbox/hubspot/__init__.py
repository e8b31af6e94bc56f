"""HubSpot CRM v3: objects list/get/search and deal pipelines over a deterministic portal."""
