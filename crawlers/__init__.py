"""Scrapy side of Moisson: settings, items, base spiders and one spider per platform."""
