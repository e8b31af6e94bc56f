-- Tables created after the mirror (revisions 0021 and 0023) are mirrored too.
SELECT storeline_private.mirror_table(t)
FROM unnest(ARRAY[
    'core_warehouse.fact_web_traffic_range_totals', 'reporting.campaign_daily'
]::regclass[]) AS t;
