"""Names for SQL written by hand, once per process, where a statement runs on every live frame
and the ORM's compiling cost more than the query (deliberation.selectors.topic_for_socket,
deliberation.services' resend check and numbering). Names come from the models' _meta, quoted
by the connection, so a renamed field or table renames them too."""

from django.db import connections


def table(model) -> str:
    """`model`'s table, quoted."""
    return connections[model.objects.db].ops.quote_name(model._meta.db_table)


def column(model, name: str, *, qualified: bool = True) -> str:
    """The column of `model`'s field `name` ("pk" for the primary key), quoted and qualified by
    the table that holds it (a parent's, for an inherited field), as the ORM writes it; not
    qualified where SQL wants a bare name (the left side of an UPDATE's SET)."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    quote = connections[model.objects.db].ops.quote_name
    if not qualified:
        return quote(field.column)
    return f"{quote(field.model._meta.db_table)}.{quote(field.column)}"
