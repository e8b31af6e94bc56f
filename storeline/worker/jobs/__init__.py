"""The job engine: claim, lease, heartbeat, retry, reap, schedule (DESIGN.md §4)."""
