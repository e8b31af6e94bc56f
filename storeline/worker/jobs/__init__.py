"""The job engine: claim, lease, heartbeat, retry, reap, schedule (docs/job-engine.md)."""
