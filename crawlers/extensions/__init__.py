"""Scrapy extensions, add-ons and middlewares of Moisson's operations (docs/OPERATIONS.md)."""
