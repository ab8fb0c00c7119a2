"""Item pipelines, one per file, in the order of ``ITEM_PIPELINES`` (docs/PIPELINES.md)."""
