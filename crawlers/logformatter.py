"""Log dropped items by their reason and URL, not as a dump of the whole item."""

import logging

from scrapy.logformatter import LogFormatter


class MoissonLogFormatter(LogFormatter):
    def dropped(self, item, exception, response, spider=None):
        return {
            "level": logging.INFO,
            "msg": "dropped: %(exception)s",
            "args": {"exception": exception},
        }
