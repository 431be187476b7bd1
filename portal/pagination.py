"""Paging a list, one way everywhere: Flask-SQLAlchemy's ``db.paginate``.

Two additions: a select of several entities or columns is paged as rows (``db.paginate``
applies ``scalars()`` and would keep only the first entity), and a page number beyond the last
page shows the last page (``db.paginate`` with ``error_out=False`` shows an empty page). The
templates render the page links with the ``pager`` macro of ``templates/_macros.html``; views
read the page number with ``portal.blueprints.params.page_number``.
"""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination, SelectPagination
from sqlalchemy import Select

from portal.extensions import db


class RowPagination(SelectPagination):
    """``db.paginate``'s pagination whose items are the selected rows (named tuples)."""

    def _query_items(self) -> list:
        select = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(select).all())


def paginate(select: Select, page: int, per_page: int) -> Pagination:
    """Page ``page`` (from 1) of ``select``, which must be ordered: one query for the items and
    one for the count, whatever the number of rows.

    The items are what ``select`` names: model instances for ``select(Model)``, rows for a
    select of several entities or columns. A page beyond the last shows the last one (at the
    cost of querying again), a page below 1 the first.
    """
    pagination = _paginate(select, page, per_page)
    if not pagination.items and pagination.page > 1:
        pagination = _paginate(select, max(pagination.pages, 1), per_page)
    return pagination


def _paginate(select: Select, page: int, per_page: int) -> Pagination:
    if len(select.column_descriptions) == 1:
        return db.paginate(select, page=page, per_page=per_page, error_out=False)
    return RowPagination(
        select=select,
        session=db.session(),
        page=page,
        per_page=per_page,
        max_per_page=None,  # as db.paginate
        error_out=False,
    )
