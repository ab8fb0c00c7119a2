"""Richie sites that need nothing but their address, one platform each.

The sites are data (``crawlers/data/richie_sites.json``: platform, label, base URL); the
richie base reads each one's organisations, categories and courses. Adding a richie site
is adding an object there and its recordings; no code. ``-a site=PLATFORM`` reads one.
"""

from crawlers.bases.richie import RichieSpider


class RichieSitesSpider(RichieSpider):
    name = "richie_sites"
    platform = None  # each site is its own platform
    platform_label = "Sites richie"
    base_url = None
    sites_file = "richie_sites.json"
