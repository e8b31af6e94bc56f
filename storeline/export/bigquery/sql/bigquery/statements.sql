-- BigQuery statements of the mirror (docs/bigquery.md). `{placeholders}` are identifiers and
-- column lists the mirror builds from the Postgres catalog (never from user input).

-- name: merge
-- One MERGE per table and export: the staging table holds every changed row of the table (and
-- a `_deleted` row per key deleted since the last export), one row per key. A row is written
-- only when it is at least as new as the mirror's copy, so a replayed or late batch (a retry, a
-- worker that lost its lease) never puts an older version back.
MERGE `{target}` AS T
USING `{staging}` AS S
ON {on}
WHEN MATCHED AND S._deleted AND S.mirror_version >= T.mirror_version THEN DELETE
WHEN MATCHED AND NOT S._deleted AND S.mirror_version >= T.mirror_version THEN
    UPDATE SET {assignments}
WHEN NOT MATCHED AND NOT S._deleted THEN
    INSERT ({columns}) VALUES ({values})

-- name: view
CREATE OR REPLACE VIEW `{view}` AS
{query}
