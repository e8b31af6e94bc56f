"""Deterministic CRM objects, generated lazily by index, each with its whole future planned.

An object's *plan* (creation time, every later property change, archive time) is a pure function
of (seed, shop, kind, index); its state at sandbox time folds the plan's events up to `now()`.
So advancing the clock creates objects, moves deals through stages and archives some, with no
mutable store. Index order is creation order, which lets search skip objects that are too old.
"""

from __future__ import annotations

import functools
import random
import threading
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sandbox.hubspot import catalog
from sandbox.hubspot.catalog import KINDS, PIPELINES, Kind
from sandbox.world import ShopProfile, World

WEEKDAY = (1.1, 1.15, 1.1, 1.05, 0.95, 0.35, 0.3)  # B2B: quiet weekends
Props = tuple[tuple[str, str], ...]
Key = tuple[int, ShopProfile, datetime]  # (seed, shop, history start): what a plan depends on


def iso(ts: datetime) -> str:
    """HubSpot's timestamp format: UTC with a trailing Z, milliseconds only when they are not
    zero (Java's Instant.toString), so `2026-10-11T16:30:00Z` and `…T16:30:00.219Z` both occur."""
    ts = ts.astimezone(UTC)
    ms = ts.microsecond // 1000
    return ts.strftime("%Y-%m-%dT%H:%M:%S") + (f".{ms:03d}Z" if ms else "Z")


def epoch_ms(ts: datetime) -> str:
    """How HubSpot writes date-type (not datetime) properties: epoch milliseconds as a string."""
    return str(int(ts.timestamp()) * 1000 + ts.microsecond // 1000)


def _whole(ms: int) -> bool:
    """About one stamp in eight lands on a whole second (imports, integrations, workflows)."""
    return ms % 8 == 0


def _ms(ts: datetime) -> datetime:
    ms = ts.microsecond // 1000
    return ts.replace(microsecond=0 if _whole(ms) else ms * 1000)


@functools.lru_cache(maxsize=65536)
def _day_offsets(seed: int, shop: ShopProfile, kind: str, ordinal: int) -> tuple[float, ...]:
    """Sorted creation offsets (seconds into the UTC day) of one day's new objects."""
    day = datetime.fromordinal(ordinal)
    rng = random.Random(f"{seed}:{shop.shop_id}:hubspot:{kind}:day:{ordinal}")
    rate = shop.orders_per_day * KINDS[kind].per_order * WEEKDAY[day.weekday()]
    count = max(0, round(rate * rng.uniform(0.7, 1.3)))
    offsets = (round(rng.uniform(0, 86_400), 3) for _ in range(count))
    return tuple(sorted(float(int(o)) if _whole(round(o * 1000) % 1000) else o for o in offsets))


class Volume:
    """How many objects of a kind exist by a given time, and when object i was created."""

    def __init__(self, seed: int, shop: ShopProfile, kind: str, start: datetime) -> None:
        self.seed, self.shop, self.kind = seed, shop, kind
        self.first = start.toordinal()
        self._cum = [0]  # objects created before day first + i
        self._lock = threading.Lock()

    def _offsets(self, day: int) -> tuple[float, ...]:
        return _day_offsets(self.seed, self.shop, self.kind, self.first + day)

    def _extend(self, days: int) -> None:
        with self._lock:
            while len(self._cum) <= days:
                self._cum.append(self._cum[-1] + len(self._offsets(len(self._cum) - 1)))

    def count_by(self, ts: datetime) -> int:
        """Objects created at or before `ts`."""
        day = ts.toordinal() - self.first
        if day < 0:
            return 0
        self._extend(day + 1)
        seconds = (ts - datetime.fromordinal(ts.toordinal()).replace(tzinfo=UTC)).total_seconds()
        return self._cum[day] + bisect_right(self._offsets(day), seconds)

    def created(self, index: int) -> datetime:
        day = 0
        while self._cum[-1] <= index:
            if day > 40_000:
                raise IndexError(index)
            day += 64
            self._extend(day)
        day = bisect_right(self._cum, index) - 1
        offset = self._offsets(day)[index - self._cum[day]]
        midnight = datetime.fromordinal(self.first + day).replace(tzinfo=UTC)
        return _ms(midnight + timedelta(seconds=offset))


_volumes: dict[tuple[int, str, str, datetime], Volume] = {}
_volumes_lock = threading.Lock()


def start_of(world: World, shop: ShopProfile) -> datetime:
    return datetime.combine(world.history_start(shop), time(0), UTC)


def _volume(seed: int, shop: ShopProfile, kind: str, start: datetime) -> Volume:
    key = (seed, shop.shop_id, kind, start)
    with _volumes_lock:
        if key not in _volumes:
            _volumes[key] = Volume(seed, shop, kind, start)
        return _volumes[key]


def volume(world: World, shop: ShopProfile, kind: str) -> Volume:
    return _volume(world.seed, shop, kind, start_of(world, shop))


@dataclass(frozen=True)
class Plan:
    """An object's life: initial properties at `created`, then timed changes and an archive."""

    kind: Kind
    index: int
    created: datetime
    events: tuple[tuple[datetime, Props], ...]
    archived_at: datetime | None
    associations: tuple[tuple[str, int], ...]

    @property
    def id(self) -> str:
        return str(self.kind.id_base + self.index)


def _pick_earlier(rng: random.Random, vol: Volume, created: datetime) -> int | None:
    existing = vol.count_by(created - timedelta(seconds=1))
    return rng.randrange(existing) if existing else None


def _deal(
    rng: random.Random, key: Key, created: datetime, index: int
) -> tuple[list[tuple[datetime, Props]], list[tuple[str, int]]]:
    shop = key[1]
    # A second stream for the shapes real portals have (no amount, no close date, date-type
    # properties), so adding them left every other draw of the world unchanged.
    real = random.Random(f"{key[0]}:{shop.shop_id}:hubspot:deals:{index}:shapes")
    pipeline = PIPELINES[0] if rng.random() < 0.8 else PIPELINES[1]
    amount = Decimal(catalog.DEAL_SIZE.get(shop.currency, 2000.0) * rng.lognormvariate(0, 0.5))
    amount = amount.quantize(Decimal(1) if rng.random() < 0.6 else Decimal("0.01"))
    currency = deal_currency(key[0], shop, index)
    if currency not in (None, shop.currency):  # an amount of the same size in that currency
        _, rate, _ = catalog.EXTRA_CURRENCIES[shop.currency]
        amount = (amount / Decimal(rate)).quantize(Decimal("0.01"))
    company = f"{rng.choice(catalog.COMPANY_WORDS)} {rng.choice(catalog.COMPANY_SUFFIXES)}"
    opened = pipeline.open_stages
    initial: Props = (
        ("amount", str(amount)),
        ("closedate", iso(_ms(created + timedelta(days=rng.uniform(20, 90))))),
        *((("deal_currency_code", currency),) if currency else ()),
        ("dealname", f"{company} - {rng.choice(catalog.PRODUCTS)}"),
        ("dealstage", opened[0].id),
        ("dealtype", rng.choice(("newbusiness", "existingbusiness"))),
        ("hubspot_owner_id", str(rng.choice((51234001, 51234002, 51234003)))),
        ("pipeline", pipeline.id),
    )
    dropped: set[str] = set()
    if real.random() < catalog.NO_AMOUNT:
        dropped.add("amount")  # never set: the API answers "amount": null
    if real.random() < catalog.NO_CLOSEDATE:
        dropped.add("closedate")  # open deals without an expected close date
    initial = tuple(kv for kv in initial if kv[0] not in dropped)
    if pipeline is PIPELINES[1] or real.random() < 0.1:
        renews = datetime.combine((created + timedelta(days=365)).date(), time(0), UTC)
        initial += (("renewal_date", epoch_ms(renews)),)
    events = [(created, initial)]
    if "amount" not in dropped and real.random() < catalog.AMOUNT_CLEARED:
        cleared = _ms(created + timedelta(days=real.uniform(0.5, 30)))
        events.append((cleared, (("amount", ""),)))  # cleared in the UI: "amount": ""
    at = created
    for stage in (*opened[1:], pipeline.won_stage):
        at = _ms(at + timedelta(days=rng.uniform(0.5, 14)))
        roll = rng.random()
        if roll < 0.12:
            events.append((at, (("dealstage", pipeline.lost_stage.id), ("closedate", iso(at)))))
            break
        if roll < 0.2:
            break  # the deal stalls in its current stage
        change: Props = (("dealstage", stage.id),)
        if stage.closed:
            change += (("closedate", iso(at)),)
        events.append((at, change))
    if rng.random() < 0.25:
        edited = _ms(created + timedelta(days=rng.uniform(0.2, 60)))
        new_amount = (amount * Decimal(rng.uniform(0.7, 1.4))).quantize(Decimal("0.01"))
        events.append((edited, (("amount", str(new_amount)),)))
    for n in range(rng.randint(0, 2)):
        touched = _ms(created + timedelta(days=rng.uniform(0.1, 150)))
        events.append((touched, (("hs_next_step", f"Follow-up #{n + 1}"),)))
    links: list[tuple[str, int]] = []
    company_index = _pick_earlier(rng, _volume(key[0], key[1], "companies", key[2]), created)
    if company_index is not None:
        links.append(("companies", company_index))
    contact_index = _pick_earlier(rng, _volume(key[0], key[1], "contacts", key[2]), created)
    if contact_index is not None:
        links.append(("contacts", contact_index))
    return events, links


def deal_currency(seed: int, shop: ShopProfile, index: int) -> str | None:
    """A deal's `deal_currency_code`: unset on a single-currency portal; on a multi-currency one
    the company currency or, for a share of deals, the portal's additional currency. Its own
    random stream, so every other draw of the world is unchanged."""
    extra = catalog.EXTRA_CURRENCIES.get(shop.currency)
    if extra is None:
        return None
    pick = random.Random(f"{seed}:{shop.shop_id}:hubspot:deals:{index}:currency")
    return extra[0] if pick.random() < extra[2] else shop.currency


def _contact(
    rng: random.Random, key: Key, created: datetime, index: int
) -> tuple[list[tuple[datetime, Props]], list[tuple[str, int]]]:
    first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
    initial: Props = (
        ("email", f"{first.lower()}.{last.lower()}{index}@example.com"),
        ("firstname", first),
        ("lastname", last),
        ("lifecyclestage", "lead"),
    )
    events = [(created, initial)]
    if rng.random() < 0.4:
        converted = _ms(created + timedelta(days=rng.uniform(1, 120)))
        events.append((converted, (("lifecyclestage", "customer"),)))
    company_index = _pick_earlier(rng, _volume(key[0], key[1], "companies", key[2]), created)
    return events, [("companies", company_index)] if company_index is not None else []


def _company(rng: random.Random, created: datetime, index: int) -> list[tuple[datetime, Props]]:
    word, suffix = rng.choice(catalog.COMPANY_WORDS), rng.choice(catalog.COMPANY_SUFFIXES)
    initial: Props = (
        ("domain", f"{word.lower()}-{suffix.lower()}-{index}.example.com"),
        ("industry", rng.choice(catalog.INDUSTRIES)),
        ("name", f"{word} {suffix}"),
    )
    events = [(created, initial)]
    if rng.random() < 0.5:
        touched = _ms(created + timedelta(days=rng.uniform(1, 150)))
        events.append((touched, (("numberofemployees", str(rng.randint(5, 500))),)))
    return events


@functools.lru_cache(maxsize=32768)
def _plan(key: Key, kind: str, index: int) -> Plan:
    seed, shop, start = key
    rng = random.Random(f"{seed}:{shop.shop_id}:hubspot:{kind}:{index}")
    created = _volume(seed, shop, kind, start).created(index)
    links: list[tuple[str, int]] = []
    if kind == "deals":
        events, links = _deal(rng, key, created, index)
    elif kind == "contacts":
        events, links = _contact(rng, key, created, index)
    else:
        events = _company(rng, created, index)
    meta = KINDS[kind]
    archived_at = None
    if rng.random() < meta.archive_rate:
        archived_at = _ms(created + timedelta(days=rng.uniform(1, 120)))
    for at, first, change in bulk_edits(seed, shop, kind, start):
        if first <= index and created < at and (archived_at is None or archived_at > at):
            events.append((at, change))
    events.sort(key=lambda e: e[0])
    return Plan(meta, index, created, tuple(events), archived_at, tuple(links))


@functools.lru_cache(maxsize=1024)
def bulk_edits(
    seed: int, shop: ShopProfile, kind: str, start: datetime
) -> tuple[tuple[datetime, int, Props], ...]:
    """(time, first index touched) of every bulk edit of `kind`; it touches every record from
    that index up to the last one created before the edit (those archived by then excepted)."""
    anchor_day = start + timedelta(days=shop.history_days)
    out = []
    for edit in catalog.BULK_EDITS:
        if edit.kind == kind:
            at = anchor_day + edit.after_anchor_day
            before = _volume(seed, shop, kind, start).count_by(at - timedelta(milliseconds=1))
            out.append((at, max(0, before - shop.hubspot_bulk_edit_size), edit.change))
    return tuple(out)


def plan(world: World, shop: ShopProfile, kind: str, index: int) -> Plan:
    return _plan((world.seed, shop, start_of(world, shop)), kind, index)
