"""MOOC Bâtiment Durable (https://www.mooc-batiment-durable.fr), ADEME's richie site.

openfun/richie-site-factory deploys it as the ``ademe`` site (sites/ademe/aws/config.tfvars
names its production domain); it serves richie's API, so the richie base does the rest.
"""

from crawlers.bases.richie import RichieSpider


class MoocBatimentDurableSpider(RichieSpider):
    name = "mooc_batiment_durable"
    platform = "mooc_batiment_durable"
    platform_label = "MOOC Bâtiment Durable"
    base_url = "https://www.mooc-batiment-durable.fr"
    allowed_domains = ["www.mooc-batiment-durable.fr"]
