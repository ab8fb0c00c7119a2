"""Open edX sites, one platform each, read through the LMS's public course API.

The sites are data (``crawlers/data/openedx_sites.json``); the Open edX base reads their
course runs and makes each course a listing whose runs are its sessions. Adding an Open
edX site is adding an object there and its recordings. ``-a site=PLATFORM`` reads one.
"""

from crawlers.bases.openedx import OpenEdxSpider


class OpenEdxSitesSpider(OpenEdxSpider):
    name = "openedx"
    platform = None  # each site is its own platform
    platform_label = "Sites Open edX"
    base_url = None
    sites_file = "openedx_sites.json"
