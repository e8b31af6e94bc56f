"""The `storeline` command as a user runs it: real subprocesses against the test's database."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

SHOP_TOKEN = "shpat_do_not_print_me"


def storeline(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "storeline.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


def seed_file(tmp_path: Path, *, token_line: str = f'access_token = "{SHOP_TOKEN}"') -> Path:
    path = tmp_path / "seed.toml"
    path.write_text(
        textwrap.dedent(f"""
        [[agencies]]
        name = "Northwind"

        [[users]]
        id = "00000000-0000-0000-0000-0000000000aa"
        email = "owner@northwind.test"
        agency = "Northwind"

        [[shops]]
        id = "https://Aurora-Goods.myshopify.com/admin"
        name = "Aurora Goods"
        currency = "USD"
        timezone = "America/Los_Angeles"
        agency = "Northwind"
        users = ["owner@northwind.test"]

        [[credentials]]
        shop = "aurora-goods.myshopify.com"
        platform = "SHOPIFY"
        [credentials.secrets]
        {token_line}

        [[credentials]]
        shop = "aurora-goods.myshopify.com"
        platform = "GA4"
        metadata = {{ property_id = "300000001" }}
        [credentials.secrets_env]
        client_id = "T_GA4_CLIENT_ID"
        client_secret = "T_GA4_CLIENT_SECRET"
        refresh_token = "T_GA4_REFRESH"
    """)
    )
    return path


GA4_ENV = {"T_GA4_CLIENT_ID": "cid", "T_GA4_CLIENT_SECRET": "csecret", "T_GA4_REFRESH": "1//r"}


def counts(dsn: str) -> tuple[int, int, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM app_dashboard.shops),"
            " (SELECT count(*) FROM app_dashboard.shop_credentials),"
            " (SELECT count(*) FROM app_dashboard.sync_jobs)"
        ).fetchone()
    assert row is not None
    return row


def test_seed_loads_everything_once_and_never_prints_secrets(db_dsn: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": db_dsn, **GA4_ENV}
    first = storeline("seed", "--file", str(seed_file(tmp_path)), env=env)
    assert first.returncode == 0, first.stderr
    assert "2 jobs_enqueued" in first.stdout
    again = storeline("seed", "--file", str(seed_file(tmp_path)), env=env)
    assert again.returncode == 0, again.stderr
    assert "0 jobs_enqueued" in again.stdout  # the HISTORICAL_INIT jobs are already queued
    assert counts(db_dsn) == (1, 2, 2)
    for out in (first, again):
        assert SHOP_TOKEN not in out.stdout + out.stderr
    with psycopg.connect(db_dsn) as conn:
        jobs = conn.execute(
            "SELECT shop_id, platform, job_type FROM app_dashboard.sync_jobs ORDER BY platform"
        ).fetchall()
        raw = conn.execute("SELECT ciphertext FROM app_dashboard.shop_credentials").fetchall()
    assert jobs == [
        ("aurora-goods.myshopify.com", "GA4", "HISTORICAL_INIT"),
        ("aurora-goods.myshopify.com", "SHOPIFY", "HISTORICAL_INIT"),
    ]
    assert all(SHOP_TOKEN.encode() not in bytes(r[0]) for r in raw)


@pytest.mark.parametrize(
    ("setup", "env_extra", "message"),
    [
        ("missing_env", {}, "environment variable T_GA4_CLIENT_ID is not set"),
        ("bad_toml", GA4_ENV, "is not valid TOML"),
        ("typo_secret", GA4_ENV, "missing access_token; unexpected acess_token"),
        ("unknown_field", GA4_ENV, "shops.0.colour: Extra inputs are not permitted"),
        ("no_key", {**GA4_ENV, "STORELINE_ENCRYPTION_KEYS": ""}, "STORELINE_ENCRYPTION_KEYS"),
        ("missing_file", GA4_ENV, "cannot read seed file"),
    ],
)
def test_bad_seed_input_is_one_clear_line_and_changes_nothing(
    db_dsn: str, tmp_path: Path, setup: str, env_extra: dict[str, str], message: str
) -> None:
    path = seed_file(tmp_path)
    if setup == "bad_toml":
        path.write_text("[[agencies]\nname = ")
    elif setup == "typo_secret":
        path = seed_file(tmp_path, token_line='acess_token = "typo"')
    elif setup == "unknown_field":
        path.write_text(path.read_text().replace('name = "Aurora Goods"', 'name = "A"\ncolour = 1'))
    elif setup == "missing_file":
        path = tmp_path / "nope.toml"
    result = storeline("seed", "--file", str(path), env={"DATABASE_URL": db_dsn, **env_extra})
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("storeline: ")
    assert counts(db_dsn) == (0, 0, 0)


@pytest.mark.parametrize("url", ["mysql://user@host/db", "not a url", "postgresql://"])
def test_malformed_database_url(url: str) -> None:
    result = storeline("db", "upgrade", env={"DATABASE_URL": url})
    assert result.returncode == 2
    assert result.stderr.startswith("storeline: invalid setting DATABASE_URL")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_database_is_one_line_without_password() -> None:
    result = storeline(
        "db", "upgrade", env={"DATABASE_URL": "postgresql://u:s3cr3tpw@127.0.0.1:1/db"}
    )
    assert result.returncode == 1
    assert "s3cr3tpw" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_reset_refuses_non_local_database_without_yes() -> None:
    # Refused before any connection is attempted; the host is never contacted.
    result = storeline(
        "db", "reset", env={"DATABASE_URL": "postgresql://u:pw@db.example.invalid:5432/prod"}
    )
    assert result.returncode == 2
    assert "without --yes" in result.stderr
    assert "pw@" not in result.stderr


def test_reset_and_upgrade_on_a_database_url(db_dsn: str) -> None:
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO app_dashboard.agencies (name) VALUES ('gone after reset')")
    reset = storeline("db", "reset", env={"DATABASE_URL": db_dsn})
    assert reset.returncode == 0, reset.stderr
    upgrade = storeline("db", "upgrade", env={"DATABASE_URL": db_dsn})
    assert upgrade.returncode == 0, upgrade.stderr
    with psycopg.connect(db_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM app_dashboard.agencies").fetchone() == (0,)


def test_reset_and_upgrade_on_the_embedded_database(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "", "STORELINE_DATA_DIR": str(tmp_path / "data")}
    reset = storeline("db", "reset", env=env)
    assert reset.returncode == 0, reset.stderr
    upgrade = storeline("db", "upgrade", env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    assert (tmp_path / "data" / "pg16" / "PG_VERSION").exists()


def test_keys_generate_prints_a_usable_key(tmp_path: Path) -> None:
    result = storeline("keys", "generate", "--key-id", "k7")
    assert result.returncode == 0
    key = result.stdout.strip()
    assert key.startswith("k7:")
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "from storeline.core.crypto import seal; print(seal({'a': 'b'}, shop_id='s', "
            "platform='META').key_id)",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "STORELINE_ENCRYPTION_KEYS": key},
        check=True,
    )
    assert probe.stdout.strip() == "k7"
