"""Credentials are sealed with AES-GCM, bound to their row, and keys can rotate."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from storeline.core import crypto
from storeline.core.errors import ConfigError
from storeline.core.settings import clear_caches

K1 = "k1:" + "A" * 43 + "="
K0 = "k0:" + "B" * 43 + "="


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | None], None]]:
    def use(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("STORELINE_ENCRYPTION_KEYS", raising=False)
        else:
            monkeypatch.setenv("STORELINE_ENCRYPTION_KEYS", value)
        clear_caches()

    yield use
    clear_caches()


def test_roundtrip_and_ciphertext_hides_token(keys: Callable[[str | None], None]) -> None:
    keys(K1)
    sealed = crypto.seal(
        {"access_token": "shpat_secret"}, shop_id="a.myshopify.com", platform="SHOPIFY"
    )
    assert sealed.key_id == "k1"
    assert b"shpat_secret" not in sealed.ciphertext
    assert crypto.unseal(sealed, shop_id="a.myshopify.com", platform="SHOPIFY") == {
        "access_token": "shpat_secret"
    }


def test_bound_to_its_row(keys: Callable[[str | None], None]) -> None:
    keys(K1)
    sealed = crypto.seal({"t": "x"}, shop_id="a.myshopify.com", platform="SHOPIFY")
    with pytest.raises(ConfigError, match="does not decrypt"):
        crypto.unseal(sealed, shop_id="b.myshopify.com", platform="SHOPIFY")


def test_rotation_reads_old_rows_and_writes_with_the_new_key(
    keys: Callable[[str | None], None],
) -> None:
    keys(K0)
    old = crypto.seal({"t": "x"}, shop_id="a.myshopify.com", platform="META")
    keys(f"{K1},{K0}")
    assert crypto.unseal(old, shop_id="a.myshopify.com", platform="META") == {"t": "x"}
    assert crypto.seal({"t": "y"}, shop_id="a.myshopify.com", platform="META").key_id == "k1"
    keys(K1)
    with pytest.raises(ConfigError, match="'k0'"):
        crypto.unseal(old, shop_id="a.myshopify.com", platform="META")


@pytest.mark.parametrize("value", [None, "", "k1", "k1:short", "k1:" + "!" * 44])
def test_missing_or_malformed_keys_are_clear_errors(
    keys: Callable[[str | None], None], value: str | None
) -> None:
    keys(value)
    with pytest.raises(ConfigError, match="STORELINE_ENCRYPTION_KEYS"):
        crypto.seal({"t": "x"}, shop_id="a.myshopify.com", platform="META")
