"""GA4: daily traffic by channel, source, medium and device per property (docs/platforms/ga4.md)."""
