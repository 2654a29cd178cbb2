"""Cursor pagination: page 1,000 costs what page 1 costs.

Each list is ordered by one unique, indexed column (`cursor_ordering` on the view); the cursor
in `next` says "after this value", so the database seeks in the index instead of counting past
the earlier pages (no OFFSET). There is no page number and no total: follow `next` to the end."""

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class OpenDataCursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "id"

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "cursor_ordering", self.ordering)
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError(
                {
                    self.cursor_query_param: [
                        _("This cursor is not valid: follow the next and previous links as given.")
                    ]
                }
            ) from None
