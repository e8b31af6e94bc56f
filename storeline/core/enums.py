"""Enumerations shared by the API and the worker; values match the CHECK constraints in SQL
(Platform: the app_dashboard.platform domain; sources and export targets alike)."""

from enum import StrEnum


class Platform(StrEnum):
    SHOPIFY = "SHOPIFY"
    META = "META"
    GA4 = "GA4"
    HUBSPOT = "HUBSPOT"
    BIGQUERY = "BIGQUERY"  # an export target, not a source (storeline/platforms/__init__.py)


class JobType(StrEnum):
    HISTORICAL_INIT = "HISTORICAL_INIT"
    HISTORICAL_REBUILD = "HISTORICAL_REBUILD"
    INCREMENTAL = "INCREMENTAL"


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class CredentialStatus(StrEnum):
    OK = "OK"
    NEEDS_REAUTH = "NEEDS_REAUTH"


class UserRole(StrEnum):
    AGENCY_OWNER = "AGENCY_OWNER"
    AGENCY_STAFF = "AGENCY_STAFF"
    STORE_USER = "STORE_USER"
