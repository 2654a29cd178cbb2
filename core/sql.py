"""Names for SQL written by hand, once per process, where a statement runs on every live frame
and the ORM's compiling cost more than the query (deliberation.selectors.topic_for_socket,
deliberation.services' resend check and numbering). Names come from the models' _meta, quoted
by the connection, so a renamed field or table renames them too."""

from django.db import connections


def table(model) -> str:
    """`model`'s table, quoted."""
    return connections[model.objects.db].ops.quote_name(model._meta.db_table)


def column(model, name: str) -> str:
    """The column of `model`'s field `name` ("pk" for the primary key), qualified by the table
    that holds it (a parent's, for an inherited field) and quoted, as the ORM writes it."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    quote = connections[model.objects.db].ops.quote_name
    return f"{quote(field.model._meta.db_table)}.{quote(field.column)}"
