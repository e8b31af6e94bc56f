"""The BigQuery mirror (docs/bigquery.md): each shop's warehouse tables and reporting views in its
own dataset, kept in step by load jobs and one MERGE per table after every sync that changed data.
"""
