"""Insights request parameters, parsed and validated the way the Graph API does it.

List parameters arrive either as JSON arrays (the SDKs: `fields=["spend","ad_id"]`) or as
comma-separated strings (`fields=spend,ad_id`); `time_range` is JSON in the query string. The
37-month retention is checked against the account-local today; an `until` in the future is
clamped to today, as Meta does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sandbox.meta import errors

LEVELS = ("ad", "adset", "campaign", "account")
IDENTITY_FIELDS = (
    "account_id", "account_name", "account_currency", "campaign_id", "campaign_name",
    "adset_id", "adset_name", "ad_id", "ad_name", "objective", "buying_type",
    "optimization_goal", "attribution_setting", "date_start", "date_stop",
)  # fmt: skip
METRIC_FIELDS = (
    "spend", "impressions", "clicks", "reach", "frequency", "cpc", "cpm", "ctr", "cpp",
    "inline_link_clicks", "inline_link_click_ctr", "actions", "action_values",
    "cost_per_action_type", "purchase_roas", "website_purchase_roas",
)  # fmt: skip
FIELDS = IDENTITY_FIELDS + METRIC_FIELDS
DEFAULT_FIELDS = ("impressions", "spend")
WINDOW_NAMES = ("1d_click", "7d_click", "28d_click", "1d_view", "7d_view", "28d_view", "1d_ev",
                "dda", "default")  # fmt: skip
# Meta stopped returning 7d_view/28d_view on 12 Jan 2026: still accepted, never in the answer;
# 1d_ev (engaged-view, a part of 1d_view here) still comes back.
RETURNED_WINDOWS = ("1d_click", "7d_click", "28d_click", "1d_view", "1d_ev")
PRESETS = ("today", "yesterday", "last_3d", "last_7d", "last_14d", "last_28d", "last_30d",
           "last_90d", "this_month", "last_month", "maximum")  # fmt: skip
RETENTION_MONTHS = 37
MAX_LIMIT = 5000


@dataclass(frozen=True)
class InsightsQuery:
    level: str
    fields: tuple[str, ...]
    since: date
    until: date
    increment: int | str  # 1..90 days, "monthly" or "all_days"
    windows: tuple[str, ...]
    limit: int

    @property
    def days(self) -> int:
        return max(0, (self.until - self.since).days + 1)


def parse_list(raw: str | None) -> list[str]:
    if raw is None or raw.strip() == "":
        return []
    text = raw.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise errors.invalid_parameter(f"Invalid list parameter: {raw}") from exc
        return [str(v) for v in value]
    return [part.strip() for part in text.split(",") if part.strip()]


def retention_floor(today: date) -> date:
    months = today.year * 12 + today.month - 1 - RETENTION_MONTHS
    year, month = divmod(months, 12)
    day = today.day
    while True:
        try:
            return date(year, month + 1, day)
        except ValueError:
            day -= 1


def parse_insights(params: Mapping[str, str], today: date, created: date) -> InsightsQuery:
    level = params.get("level", "ad")
    if level not in LEVELS:
        raise errors.invalid_parameter(
            f"level must be one of the following values: {', '.join(LEVELS)}"
        )
    fields = parse_list(params.get("fields")) or list(DEFAULT_FIELDS)
    for i, name in enumerate(fields):
        if name not in FIELDS:
            raise errors.invalid_parameter(
                f"fields[{i}] must be one of the following values: {', '.join(sorted(FIELDS))}"
            )
    windows = parse_list(params.get("action_attribution_windows"))
    for i, name in enumerate(windows):
        if name not in WINDOW_NAMES:
            raise errors.invalid_parameter(
                f"action_attribution_windows[{i}] must be one of the following values: "
                + ", ".join(WINDOW_NAMES)
            )
    if parse_list(params.get("breakdowns")):
        raise errors.invalid_parameter("breakdowns are not available on this ad account")
    since, until = _time_range(params, today, created)
    if since < retention_floor(today):
        raise errors.beyond_retention()
    return InsightsQuery(
        level=level,
        fields=tuple(dict.fromkeys(fields)),
        since=since,
        until=min(until, today),
        increment=_increment(params.get("time_increment")),
        windows=tuple(w for w in dict.fromkeys(windows) if w in RETURNED_WINDOWS),
        limit=_limit(params.get("limit")),
    )


def _time_range(params: Mapping[str, str], today: date, created: date) -> tuple[date, date]:
    raw = params.get("time_range")
    if raw:
        try:
            spec = json.loads(raw.replace("'", '"'))
            since = date.fromisoformat(spec["since"])
            until = date.fromisoformat(spec["until"])
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.invalid_parameter(
                "time_range must be a JSON object with since and until dates (YYYY-MM-DD)"
            ) from exc
        if until < since:
            raise errors.invalid_parameter("time_range's since must be on or before until")
        return since, until
    preset = params.get("date_preset", "last_30d")
    if preset not in PRESETS:
        raise errors.invalid_parameter(
            f"date_preset must be one of the following values: {', '.join(PRESETS)}"
        )
    yesterday = today - timedelta(days=1)
    if preset == "today":
        return today, today
    if preset == "yesterday":
        return yesterday, yesterday
    if preset.startswith("last_") and preset.endswith("d"):
        n = int(preset[5:-1])
        return today - timedelta(days=n), yesterday
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    return max(created, retention_floor(today)), today  # maximum


def _increment(raw: str | None) -> int | str:
    if raw is None or raw == "all_days":
        return "all_days"
    if raw == "monthly":
        return "monthly"
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if not 1 <= n <= 90:
        raise errors.invalid_parameter(
            "time_increment must be an integer between 1 and 90, 'monthly' or 'all_days'"
        )
    return n


def _limit(raw: str | None) -> int:
    if raw is None:
        return 25
    try:
        n = int(raw)
    except ValueError as exc:
        raise errors.invalid_parameter("Param limit must be a non-negative integer") from exc
    if n < 0:
        raise errors.invalid_parameter("Param limit must be a non-negative integer")
    return max(1, min(n, MAX_LIMIT))
