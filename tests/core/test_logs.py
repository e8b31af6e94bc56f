"""Secrets never reach the logs, whatever key or shape they arrive in."""

from __future__ import annotations

from storeline.core.logs import redact

SECRETS = ["shpat_abc123", "EAAsecret99", "sk_live_x", "hunter2", "1//refresh-xyz", "pat-na1-zz"]


def test_redacts_secret_keys_and_secret_looking_values() -> None:
    event = redact(
        None,
        "info",
        {
            "event": "called Authorization: Bearer sk_live_x with token shpat_abc123",
            "access_token": "EAAsecret99",
            "nested": {"client_secret": "hunter2", "ok": "visible", "list": ["1//refresh-xyz"]},
            "url": "https://graph.facebook.com/v26.0/me?access_token=EAAsecret99&fields=id",
            "dsn": "postgresql://u:hunter2@db:5432/x",
            "message": "postgresql://u:hunter2@db:5432/x failed; token pat-na1-zz",
        },
    )
    text = repr(event)
    for secret in SECRETS:
        assert secret not in text, secret
    assert event["nested"]["ok"] == "visible"
