"""Meta Ads: ad-level daily insights for every ad account of a shop (docs/platforms/meta.md)."""
