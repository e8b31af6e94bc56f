"""GA4: the OAuth token endpoint and Data API v1beta runReport over deterministic traffic."""
