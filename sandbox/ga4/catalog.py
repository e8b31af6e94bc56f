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
