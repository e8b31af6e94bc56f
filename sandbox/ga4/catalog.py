"""What a sandbox GA4 property knows: its dimensions, metrics and the traffic mix behind them.

Names and metric types follow the Data API schema (api-schema page); anything else is rejected
with the same 400 a real property gives, so a typo in a connector fails here as it would live.
"""

from __future__ import annotations

from dataclasses import dataclass

# Dimension name -> how a row's value is read off a traffic cell (see generate.Cell).
DIMENSIONS: tuple[str, ...] = (
    "date",
    "sessionDefaultChannelGroup",
    "sessionSource",
    "sessionMedium",
    "sessionSourceMedium",
    "deviceCategory",
)

# Metric name -> GA4 MetricType. Values always travel as strings in `metricValues`.
METRIC_TYPES: dict[str, str] = {
    "sessions": "TYPE_INTEGER",
    "totalUsers": "TYPE_INTEGER",
    "newUsers": "TYPE_INTEGER",
    "activeUsers": "TYPE_INTEGER",
    "engagedSessions": "TYPE_INTEGER",
    "keyEvents": "TYPE_FLOAT",
    "transactions": "TYPE_INTEGER",
    "ecommercePurchases": "TYPE_INTEGER",
    "purchaseRevenue": "TYPE_CURRENCY",
    "totalRevenue": "TYPE_CURRENCY",
    "screenPageViews": "TYPE_INTEGER",
    "engagementRate": "TYPE_FLOAT",
    "bounceRate": "TYPE_FLOAT",
}

# Ratio metrics are recomputed from their parts after aggregation, never summed.
RATIOS: dict[str, tuple[str, str, bool]] = {
    "engagementRate": ("engagedSessions", "sessions", False),
    "bounceRate": ("engagedSessions", "sessions", True),  # 1 - engaged/sessions
}

# Aliases that resolve to a stored base counter.
ALIASES: dict[str, str] = {
    "activeUsers": "totalUsers",
    "ecommercePurchases": "transactions",
    "totalRevenue": "purchaseRevenue",
}

BASE_COUNTERS: tuple[str, ...] = (
    "sessions",
    "totalUsers",
    "newUsers",
    "engagedSessions",
    "keyEvents",
    "transactions",
    "screenPageViews",
)


@dataclass(frozen=True)
class Source:
    """One session source/medium and the default channel group GA4 files it under."""

    channel: str
    source: str
    medium: str
    share: float  # of a day's sessions
    conversion: float  # transactions per session
    engagement: float  # engaged sessions per session


SOURCES: tuple[Source, ...] = (
    Source("Organic Search", "google", "organic", 0.30, 0.022, 0.62),
    Source("Organic Search", "bing", "organic", 0.03, 0.020, 0.60),
    Source("Paid Search", "google", "cpc", 0.14, 0.030, 0.58),
    Source("Paid Social", "facebook", "paid", 0.12, 0.014, 0.45),
    Source("Paid Social", "instagram", "paid", 0.07, 0.012, 0.43),
    Source("Organic Social", "l.instagram.com", "referral", 0.05, 0.008, 0.50),
    Source("Direct", "(direct)", "(none)", 0.18, 0.028, 0.66),
    Source("Email", "klaviyo", "email", 0.07, 0.041, 0.71),
    Source("Referral", "blog.example.org", "referral", 0.04, 0.015, 0.55),
)

DEVICES: tuple[tuple[str, float], ...] = (("mobile", 0.62), ("desktop", 0.33), ("tablet", 0.05))

# Sessions per order: with ~2 % conversion a shop sees ~50 sessions for every order.
SESSIONS_PER_ORDER = 48.0

# Users are counted once however many rows they appear in (docs/platforms/ga4.md, "users"): a
# day's visitors are drawn from a pool this much larger than the sum of its cells' users, and a
# range's from a property-wide pool of this many days of a shop's typical daily users.
USER_POOL_FACTOR = 1.3
PROPERTY_POOL_DAYS = 28

# The long tail: referral/utm sources seen once or twice a day (per-recipient utm_source values,
# one-off referrers). Each is its own (source, medium, device) combination in GA4's daily table.
TAIL_SHARE = {"aurora-goods": 0.10}  # share of sessions; every other shop
DEFAULT_TAIL_SHARE = 0.015
TAIL_MAX = 60  # distinct tail sources a day in the sandbox (more sessions share them)

# GA4 keeps a bounded number of dimension combinations per day in the aggregated table a report
# reads; the rest is rolled into one "(other)" row. Standard properties keep ~50,000; sandbox
# traffic is about a thousandth of a property that reaches that, so the limit is scaled with it.
TABLE_ROWS_PER_DAY = 36
OTHER = "(other)"

# Properties with Google signals on are subject to data thresholds on reports with user metrics:
# rows under THRESHOLD_USERS users are withheld (Google publishes no number; see the docs page).
SIGNALS = frozenset({"berlin-botanics"})
USER_METRICS = frozenset({"totalUsers", "newUsers", "activeUsers"})
THRESHOLD_USERS = 5
# Google documents `emptyReason` as free text and publishes no values; this one is the sandbox's.
EMPTY_THRESHOLDED = "Every row was withheld by data thresholds."

# A report reading more events than this in one date range is sampled (standard property).
SAMPLING_EVENTS = 10_000_000

# Standard-property quota limits (PropertyQuota reference).
QUOTA_LIMITS: dict[str, int] = {
    "tokensPerDay": 200_000,
    "tokensPerHour": 40_000,
    "concurrentRequests": 10,
    "serverErrorsPerProjectPerHour": 10,
    "potentiallyThresholdedRequestsPerHour": 120,
    "tokensPerProjectPerHour": 14_000,
}

MAX_LIMIT = 250_000
DEFAULT_LIMIT = 10_000
MAX_DATE_RANGES = 4
