"""core.sql: the names in hand-written SQL are the ORM's."""

import pytest
from django.db import connection

from core.sql import column, table
from councils.models import CouncilPage
from deliberation.models import Message, Topic

pytestmark = pytest.mark.django_db


def orm_sql(queryset) -> str:
    return str(queryset.query)


def test_a_table_and_its_columns_are_quoted_as_the_orm_quotes_them():
    sql = orm_sql(Topic.objects.filter(last_seq=1).values("pk"))
    assert f"FROM {table(Topic)}" in sql
    assert f"{column(Topic, 'last_seq')} = 1" in sql
    assert f"SELECT {column(Topic, 'pk')}" in sql


def test_a_foreign_key_is_its_column():
    assert column(Message, "author").endswith(connection.ops.quote_name("author_id"))
    assert f"{column(Message, 'author')} = 5" in orm_sql(Message.objects.filter(author_id=5))


def test_an_inherited_field_is_qualified_by_the_parents_table():
    sql = orm_sql(CouncilPage.objects.filter(depth=3).values("path"))
    assert column(CouncilPage, "path") == column(CouncilPage._meta.get_field("path").model, "path")
    assert f"{column(CouncilPage, 'depth')} = 3" in sql
    assert '"wagtailcore_page"' in column(CouncilPage, "path")
    assert '"councils_councilpage"' in column(CouncilPage, "level")


def test_a_bare_column_is_the_name_an_update_sets():
    bare = column(Topic, "last_seq", qualified=False)
    assert bare == connection.ops.quote_name("last_seq")
    assert column(Topic, "last_seq").endswith("." + bare)
