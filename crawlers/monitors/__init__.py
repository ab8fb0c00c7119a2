"""Spidermon monitors that judge a finished crawl run (see crawlers/health.py)."""
