"""Paging for long staff tables (a district's sample runs to hundreds of cases).

The page number travels in the query string beside the page's filters, and every page
link keeps those filters.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import request, url_for

from surveyapp.extensions import db

PER_PAGE = 50


@dataclass(frozen=True)
class Page:
    items: list
    number: int  # 1-based
    pages: int
    total: int
    per_page: int

    @property
    def first(self) -> int:
        """1-based position of the first row shown (0 on an empty page)."""
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    def url(self, number: int) -> str:
        """This view with the same filters, on page ``number``."""
        args = {**request.args.to_dict(), "page": number}
        return url_for(request.endpoint, **(request.view_args or {}), **args)


def paginate(query: sa.Select, per_page: int = PER_PAGE) -> Page:
    """Run ``query`` for the page named by ``?page=`` (out-of-range numbers are clamped)."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    pages = max(1, -(-total // per_page))
    number = min(max(request.args.get("page", 1, type=int), 1), pages)
    items = list(db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)))
    return Page(items, number, pages, total, per_page)
