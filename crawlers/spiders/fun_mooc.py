"""FUN-MOOC, the French public MOOC platform (https://www.fun-mooc.fr), runs richie."""

from crawlers.bases.richie import RichieSpider


class FunMoocSpider(RichieSpider):
    name = "fun_mooc"
    platform = "fun_mooc"
    platform_label = "FUN-MOOC"
    base_url = "https://www.fun-mooc.fr"
    allowed_domains = ["www.fun-mooc.fr"]
