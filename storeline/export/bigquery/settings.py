"""BigQuery mirror settings (`STORELINE_BIGQUERY_*`). Credentials: a service-account key file, or
application default credentials when none is given; an `endpoint` (the local emulator) uses no
credentials at all. The key file's path is configuration, its contents are never read into logs.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from storeline.core.errors import ConfigError


class BigQuerySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STORELINE_BIGQUERY_", extra="ignore")

    # The Google Cloud project that holds the datasets (and pays for the MERGEs). Unset: the
    # mirror is off and an export job fails with `bigquery_not_configured`.
    project: str | None = None
    # Dataset location, fixed when a dataset is created (US, EU, europe-west3 …).
    location: str = "US"
    # One dataset per shop: prefix + the shop id made a valid dataset name
    # ("aurora-goods.myshopify.com" → "storeline_aurora_goods_myshopify_com").
    dataset_prefix: str = Field(default="storeline_", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # A service-account JSON key; unset: application default credentials (GOOGLE_APPLICATION_
    # CREDENTIALS, gcloud's login, the metadata server).
    credentials_file: Path | None = None
    # A BigQuery-compatible endpoint instead of Google's, e.g. the emulator
    # ("http://127.0.0.1:9050"); it is called without credentials.
    endpoint: str | None = None
    # Changed rows read from Postgres and written to Parquet per round trip (memory stays flat).
    batch_rows: int = Field(default=20_000, ge=1)
    # Tables mirrored at once per shop (each its own read, load job and MERGE).
    parallel_tables: int = Field(default=4, ge=1, le=16)
    # Partition granularity of every partitioned table: DAY, or MONTH for long histories
    # (BigQuery allows 10,000 partitions per table and 4,000 per job).
    partition_type: Literal["DAY", "MONTH"] = "DAY"
    # Staging tables expire on their own if an export dies between its load and its MERGE.
    staging_expiration_hours: float = Field(default=24.0, gt=0)
    # A cap on each MERGE's billed bytes (0: none), so a mistake cannot scan a fortune.
    maximum_bytes_billed: int = Field(default=0, ge=0)

    def dataset_id(self, shop_id: str) -> str:
        return self.dataset_prefix + re.sub(r"[^A-Za-z0-9_]", "_", shop_id).lower()

    def staging_dataset_id(self, shop_id: str) -> str:
        return self.dataset_id(shop_id) + "__staging"


@cache
def bigquery_settings() -> BigQuerySettings:
    try:
        return BigQuerySettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper() or "*"
        raise ConfigError(f"invalid setting STORELINE_BIGQUERY_{field}: {first['msg']}") from None
