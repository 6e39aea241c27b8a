"""Google Cloud support: checks made before a Google Batch run submits anything.

The scale-out itself is Snakemake's: the `googlebatch` executor plugin and the `gcs` storage
plugin, configured by `profiles/gcp-batch/config.yaml` (see docs/cloud.md).
"""
