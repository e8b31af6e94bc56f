"""The shape of a sandbox HubSpot portal: object kinds, default properties and deal pipelines.

Two deal pipelines on purpose: the built-in one with HubSpot's named stage ids ("closedwon") and
a custom one whose stage ids are numeric, as custom stages are. A connector that hardcodes
"closedwon" instead of reading `metadata.isClosed`/`probability` misreads the second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Kind:
    name: str
    per_order: float  # objects created per shop order per day
    id_base: int
    modified_prop: str  # contacts say lastmodifieddate, everything else hs_lastmodifieddate
    defaults: tuple[str, ...]  # properties returned when none are requested
    archive_rate: float


KINDS: dict[str, Kind] = {
    "deals": Kind(
        "deals",
        0.5,
        20_000_000_000,
        "hs_lastmodifieddate",
        (
            "amount",
            "closedate",
            "createdate",
            "dealname",
            "dealstage",
            "hs_lastmodifieddate",
            "hs_object_id",
            "pipeline",
        ),
        0.04,
    ),
    "contacts": Kind(
        "contacts",
        1.5,
        1_000_000,
        "lastmodifieddate",
        ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
        0.02,
    ),
    "companies": Kind(
        "companies",
        0.2,
        9_000_000_000,
        "hs_lastmodifieddate",
        ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
        0.01,
    ),
}

# Every change to an object happens within this long of its creation; search uses it to skip
# objects that cannot match a recent hs_lastmodifieddate window.
MAX_LIFE = timedelta(days=160)


@dataclass(frozen=True)
class Stage:
    id: str
    label: str
    probability: str
    closed: bool

    @property
    def won(self) -> bool:
        return self.closed and self.probability == "1.0"


@dataclass(frozen=True)
class Pipeline:
    id: str
    label: str
    display_order: int
    stages: tuple[Stage, ...]

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if not s.closed)

    @property
    def won_stage(self) -> Stage:
        return next(s for s in self.stages if s.won)

    @property
    def lost_stage(self) -> Stage:
        return next(s for s in self.stages if s.closed and not s.won)


PIPELINES: tuple[Pipeline, ...] = (
    Pipeline(
        "default",
        "Sales Pipeline",
        0,
        (
            Stage("appointmentscheduled", "Appointment Scheduled", "0.2", False),
            Stage("qualifiedtobuy", "Qualified To Buy", "0.4", False),
            Stage("presentationscheduled", "Presentation Scheduled", "0.6", False),
            Stage("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
            Stage("contractsent", "Contract Sent", "0.9", False),
            Stage("closedwon", "Closed Won", "1.0", True),
            Stage("closedlost", "Closed Lost", "0.0", True),
        ),
    ),
    Pipeline(
        "75e28846-ad0d-4be2-a027-5e1da6590b98",
        "Wholesale Renewals",
        1,
        (
            Stage("1011201", "Renewal Due", "0.5", False),
            Stage("1011202", "Quote Sent", "0.75", False),
            Stage("1011203", "Renewed", "1.0", True),
            Stage("1011204", "Churned", "0.0", True),
        ),
    ),
)

STAGES: dict[str, tuple[Pipeline, Stage]] = {s.id: (p, s) for p in PIPELINES for s in p.stages}

# Shares of deals with the gaps real portals have: amount never set (null), amount set and later
# cleared (""), no expected close date while open (null until the deal closes).
NO_AMOUNT = 0.06
AMOUNT_CLEARED = 0.04
NO_CLOSEDATE = 0.25

DEAL_SIZE = {"USD": 2400.0, "EUR": 2100.0, "AUD": 3600.0}

# Currencies (docs/platforms/hubspot.md, "Deal currency"). A portal's company currency is its
# shop's. A single-currency portal leaves `deal_currency_code` unset (null) on every deal: the
# amount is in the company currency. A multi-currency portal sets it on every deal, some in an
# additional currency, and HubSpot keeps `amount_in_home_currency` = amount x the rate to the
# company currency. Keyed by company currency: (additional currency, rate, share of deals).
# Rates and shares are sandbox choices.
EXTRA_CURRENCIES: dict[str, tuple[str, str, float]] = {"AUD": ("USD", "1.52", 0.15)}
FIRST_NAMES = ("Ava", "Noah", "Mia", "Liam", "Zoe", "Ezra", "Ines", "Kai", "Lena", "Omar", "Ruth")
LAST_NAMES = ("Okafor", "Lindqvist", "Tanaka", "Moreau", "Silva", "Kowalski", "Nguyen", "Haddad")
COMPANY_WORDS = ("Northwind", "Bluebird", "Harbor", "Juniper", "Summit", "Copper", "Maple", "Tide")
COMPANY_SUFFIXES = ("Supply", "Retail", "Outfitters", "Collective", "Trading", "Goods")
INDUSTRIES = ("RETAIL", "APPAREL_FASHION", "CONSUMER_GOODS", "WHOLESALE", "SPORTING_GOODS")
PRODUCTS = ("Wholesale order", "Seasonal restock", "Corporate gifting", "Store fit-out")


@dataclass(frozen=True)
class BulkEdit:
    """One bulk edit (a territory handed to a new owner): it touches the portal's
    `ShopProfile.hubspot_bulk_edit_size` most recently created live records of `kind` and stamps
    every one of them with the same hs_lastmodifieddate. `after_anchor_day` is measured from
    midnight UTC of the world's anchor day; negative edits lie in the history, positive ones
    happen once the sandbox clock is advanced past them."""

    kind: str
    after_anchor_day: timedelta
    change: tuple[tuple[str, str], ...]


BULK_OWNER = "51234004"
_REASSIGN = (("hubspot_owner_id", BULK_OWNER),)
BULK_EDITS: tuple[BulkEdit, ...] = (
    BulkEdit("deals", timedelta(days=-21, hours=9, minutes=14, seconds=5.219), _REASSIGN),
    BulkEdit("deals", timedelta(hours=14, minutes=2, seconds=11.507), _REASSIGN),
    BulkEdit("contacts", timedelta(days=-45, hours=16, minutes=30), _REASSIGN),
    BulkEdit("contacts", timedelta(hours=13, minutes=15, seconds=42.118), _REASSIGN),
    BulkEdit("companies", timedelta(days=-60, hours=10, seconds=0.25), _REASSIGN),
)
