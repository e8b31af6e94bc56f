"""Per-shop merchandise and rules: products/variants, tax regime, shipping rates, discount codes.

Everything is derived from (seed, shop) and cached, so every order of a shop draws from the same
small catalog. Rates are stated per currency because the three default shops sit in the US
(California sales tax, shipping untaxed), Germany (19% MwSt, shipping taxed) and Kiribati/AUD
(10% GST, shipping taxed). Prices are always net: `taxes_included` is False in every shop.
"""

from __future__ import annotations

import random
import unicodedata
import zlib
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from sandbox.shopify.model import ValueType

# Shopify ids are large and globally unique; a per-shop block keeps them unique across shops.
ORDER_ID_BASE = 5_000_000_000_000
CUSTOMER_ID_BASE = 7_000_000_000_000
PRODUCT_ID_BASE = 8_000_000_000_000


def shop_block(shop_id: str) -> int:
    """A stable per-shop offset (crc32, never the salted built-in hash)."""
    return (zlib.crc32(shop_id.encode()) % 9_973) * 100_000_000


@dataclass(frozen=True)
class Variant:
    product_id: int
    variant_id: int
    title: str  # product title
    variant_title: str | None
    sku: str
    vendor: str
    price: Decimal
    taxable: bool
    requires_shipping: bool
    on_sale: bool  # entitled to the shop's automatic line-level discount


@dataclass(frozen=True)
class Code:
    code: str
    value_type: ValueType
    value: Decimal  # percent or a fixed amount in shop money
    shipping: bool  # a free-shipping code targets the shipping line


@dataclass(frozen=True)
class ShippingRate:
    title: str
    code: str
    price: Decimal


@dataclass(frozen=True)
class Catalog:
    currency: str
    variants: tuple[Variant, ...]
    taxes: tuple[tuple[str, Decimal], ...]  # (title, rate) applied to every taxable line
    shipping_taxed: bool
    shipping_rates: tuple[ShippingRate, ...]  # standard, express
    free_shipping_over: Decimal
    codes: tuple[Code, ...]
    automatic_title: str
    automatic_percent: Decimal
    presentment: tuple[str, Decimal]  # foreign presentment currency and its rate


# (title, base price in USD, variant titles, taxable, requires_shipping)
_PRODUCTS: tuple[tuple[str, str, tuple[str, ...], bool, bool], ...] = (
    ("Linen Throw", "64.00", ("Sand", "Slate", "Olive"), True, True),
    ("Ceramic Mug", "18.00", ("White", "Speckled"), True, True),
    ("Beeswax Candle", "24.00", (), True, True),
    ("Merino Beanie", "38.00", ("S/M", "L/XL"), True, True),
    ("Travel Journal", "22.50", (), True, True),
    ("Enamel Pin Set", "12.00", (), True, True),
    ("Monstera Deliciosa", "45.00", ("Small", "Large"), True, True),
    ("Terracotta Pot", "16.90", ("12 cm", "18 cm", "24 cm"), True, True),
    ("Surf Wax", "4.50", ("Cold", "Tropical"), True, True),
    ("Leash 7ft", "39.95", (), True, True),
    ("Board Bag", "129.00", ("6'0", "7'2", "9'0"), True, True),
    ("Rash Guard", "54.00", ("S", "M", "L", "XL"), True, True),
    ("Gift Wrapping", "5.00", (), False, False),
    ("E-Book: Café Recipes", "9.99", (), True, False),
    ("Ölfläschchen Set", "27.00", (), True, True),
    ("Cotton Tote", "14.00", ("Natural", "Black"), True, True),
)

_REGIMES: dict[str, tuple[tuple[tuple[str, str], ...], bool, tuple[str, str]]] = {
    "USD": ((("CA State Tax", "0.0725"), ("Los Angeles County Tax", "0.0225")), False,
            ("CAD", "1.37")),
    "EUR": ((("DE MwSt", "0.19"),), True, ("GBP", "0.86")),
    "AUD": ((("GST", "0.10"),), True, ("NZD", "1.09")),
}  # fmt: skip
_DEFAULT_REGIME = ((("VAT", "0.20"),), True, ("USD", "1.10"))
_PRICE_FACTOR = {"USD": "1", "EUR": "0.95", "AUD": "1.55"}


def _price(base: Decimal, factor: Decimal) -> Decimal:
    """Shop prices end in .00/.50/.90/.95 like real price lists, never odd fractions of cents."""
    raw = base * factor
    whole = int(raw)
    frac = min(
        (Decimal(f) for f in ("0.00", "0.50", "0.90", "0.95")), key=lambda f: abs(raw - whole - f)
    )
    return Decimal(whole) + frac if whole + frac > 0 else Decimal("0.50")


@lru_cache(maxsize=64)
def catalog_for(seed: int, shop_id: str, currency: str) -> Catalog:
    rng = random.Random(f"{seed}:{shop_id}:catalog")
    factor = Decimal(_PRICE_FACTOR.get(currency, "1"))
    products = rng.sample(_PRODUCTS, 10)
    vendor = shop_id.split(".")[0].replace("-", " ").title()
    variants: list[Variant] = []
    for p_index, (title, base, options, taxable, shipping) in enumerate(products):
        product_id = PRODUCT_ID_BASE + shop_block(shop_id) + p_index * 100
        price = _price(Decimal(base), factor)
        on_sale = rng.random() < 0.3
        for v_index, option in enumerate(options or (None,)):
            bump = Decimal(v_index * 4) * factor if len(options) > 2 else Decimal(0)
            variants.append(
                Variant(
                    product_id=product_id,
                    variant_id=product_id * 10 + v_index,
                    title=title,
                    variant_title=option,
                    sku=f"{shop_id[:3].upper()}-{p_index:02d}{v_index}",
                    vendor=vendor,
                    price=_price(price + bump, Decimal(1)),
                    taxable=taxable,
                    requires_shipping=shipping,
                    on_sale=on_sale,
                )
            )
    taxes, shipping_taxed, presentment = _REGIMES.get(currency, _DEFAULT_REGIME)
    return Catalog(
        currency=currency,
        variants=tuple(variants),
        taxes=tuple((t, Decimal(r)) for t, r in taxes),
        shipping_taxed=shipping_taxed,
        shipping_rates=(
            ShippingRate("Standard Shipping", "standard", _price(Decimal("5.90"), factor)),
            ShippingRate("Express Shipping", "express", _price(Decimal("14.90"), factor)),
        ),
        free_shipping_over=_price(Decimal(75), factor),
        codes=(
            Code("WELCOME10", "PERCENTAGE", Decimal("10.0"), shipping=False),
            Code("SPRING15", "PERCENTAGE", Decimal("15.0"), shipping=False),
            Code("VIP20", "PERCENTAGE", Decimal("20.0"), shipping=False),
            Code("TENOFF", "FIXED_AMOUNT", _price(Decimal(10), factor), shipping=False),
            Code("FREESHIP", "PERCENTAGE", Decimal("100.0"), shipping=True),
        ),
        automatic_title="Seasonal sale",
        automatic_percent=Decimal("20.0"),
        presentment=(presentment[0], Decimal(presentment[1])),
    )


FIRST_NAMES = (
    "Ava", "Noah", "Mia", "Liam", "Zoë", "Jürgen", "Aroha", "Sofía", "Kai", "Léa", "Mateo",
    "Hannah", "Tama", "Priya", "Oliver", "Émile", "Grace", "Finn", "Maja", "Teiki",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Müller", "García", "Nguyen", "Schmidt", "Tekeraoi", "Brown", "Öztürk", "Rossi",
    "Kim", "Wilson", "Fischer", "Dubois", "Taylor", "Tabai", "Novak", "Jones", "Weber",
)  # fmt: skip


@dataclass(frozen=True)
class Identity:
    first_name: str
    last_name: str
    email: str


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def identity(seed: int, shop_id: str, key: str) -> Identity:
    """A person's name and email, stable per key (a customer id, or a guest order's id)."""
    rng = random.Random(f"{seed}:{shop_id}:person:{key}")
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    domain = rng.choice(("example.com", "example.net", "example.org"))
    email = f"{_ascii(first)}.{_ascii(last)}{rng.randrange(1, 10_000)}@{domain}"
    return Identity(first, last, email)
