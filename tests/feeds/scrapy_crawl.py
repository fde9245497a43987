"""A real Scrapy crawl of a local site, run in a subprocess by the Scrapy tests.

    python -m tests.feeds.scrapy_crawl START_URL SETTINGS_JSON

The spider follows every link of the start page and yields `{url, title, html}` per page,
the way a first Scrapy spider does (`title` is the page's <title>); SETTINGS_JSON is what a
Scrapy user would put in settings.py for one way of feeding dropsift.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess


class PagesSpider(scrapy.Spider):
    name = "pages"

    def __init__(self, start: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [start]

    def parse(self, response: Any) -> Iterator[Any]:
        yield from response.follow_all(css="a", callback=self.parse_page)

    def parse_page(self, response: Any) -> Iterator[dict[str, str]]:
        yield {
            "url": response.url,
            "title": response.css("title::text").get(default="").strip(),
            "html": response.text,
        }


def main() -> None:
    start, settings = sys.argv[1], json.loads(sys.argv[2])
    process = CrawlerProcess(
        {
            "LOG_LEVEL": "INFO",
            "ROBOTSTXT_OBEY": False,
            "TELNETCONSOLE_ENABLED": False,
            "CONCURRENT_REQUESTS": 1,
            **settings,
        }
    )
    process.crawl(PagesSpider, start=start)
    process.start()


if __name__ == "__main__":
    main()
