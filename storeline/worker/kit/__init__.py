"""What every connector shares: fenced, resume-safe staging writes (more joins as connectors do)."""
