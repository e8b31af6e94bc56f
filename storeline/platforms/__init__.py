"""Every platform Storeline knows and the facts the rest of the product needs about each: one
registry, read by the kernel (which secret fields a credential takes), the API and the worker
(which connector runs a platform's jobs).

It holds data only and imports nothing but `storeline.core.enums`, so reading it never loads a
connector. A new platform adds its `Platform` member, one entry here and its folder beside this
file (`storeline/platforms/<platform>/`: connector, settings, SQL, request documents); the
SQL list of platforms is the `app_dashboard.platform` domain (revision 0013), changed by a new
revision (tests/platforms/test_registry.py checks that both name the same platforms).

An export target (BigQuery) is a platform too: its jobs run in the engine like syncs, in their
own (shop, platform) slot, but it takes no per-shop credential (`secret_sets` is empty; its
settings hold its service account) and its code lives under storeline/export/.
"""

from __future__ import annotations

from dataclasses import dataclass

from storeline.core.enums import Platform

_OAUTH = frozenset({"client_id", "client_secret", "refresh_token"})


@dataclass(frozen=True)
class PlatformSpec:
    platform: Platform
    display_name: str
    # The secret fields a credential may carry: exactly one of these sets, no more and no fewer
    # (HubSpot: a private app's token, or an OAuth app's client and a portal's refresh token), so
    # a typo never files a token in the wrong place. Sealed before they reach SQL.
    secret_sets: tuple[frozenset[str], ...]
    # Non-secret account facts the connector reads from the credential's metadata (shown back
    # to users in reporting.sync_status, so never a secret).
    metadata_keys: frozenset[str]
    # "module:factory" of the connector that runs this platform's jobs; None until one exists.
    connector: str | None

    @property
    def is_source(self) -> bool:
        """A source takes a credential per shop; an export target takes none."""
        return bool(self.secret_sets)


PLATFORMS: dict[Platform, PlatformSpec] = {
    spec.platform: spec
    for spec in (
        PlatformSpec(
            Platform.SHOPIFY,
            "Shopify",
            secret_sets=(frozenset({"access_token"}),),
            metadata_keys=frozenset(),
            connector="storeline.platforms.shopify.connector:ShopifyConnector",
        ),
        PlatformSpec(
            Platform.META,
            "Meta Ads",
            secret_sets=(frozenset({"access_token"}),),
            metadata_keys=frozenset({"ad_account_ids"}),
            connector="storeline.platforms.meta.connector:MetaConnector",
        ),
        PlatformSpec(
            Platform.GA4,
            "Google Analytics 4",
            secret_sets=(_OAUTH,),
            metadata_keys=frozenset({"property_id"}),
            connector="storeline.platforms.ga4.connector:Ga4Connector",
        ),
        PlatformSpec(
            Platform.HUBSPOT,
            "HubSpot",
            secret_sets=(frozenset({"access_token"}), _OAUTH),
            metadata_keys=frozenset({"portal_id"}),
            connector="storeline.platforms.hubspot.connector:HubSpotConnector",
        ),
        PlatformSpec(
            Platform.BIGQUERY,
            "BigQuery",
            secret_sets=(),
            metadata_keys=frozenset(),
            connector="storeline.export.bigquery.job:BigQueryExport",
        ),
    )
}

# The platforms a shop connects (credentials, syncs); the rest are export targets.
SOURCES: tuple[Platform, ...] = tuple(p for p, s in PLATFORMS.items() if s.is_source)
EXPORTS: tuple[Platform, ...] = tuple(p for p, s in PLATFORMS.items() if not s.is_source)


def spec(platform: Platform) -> PlatformSpec:
    return PLATFORMS[platform]
