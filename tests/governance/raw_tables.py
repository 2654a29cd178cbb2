"""Which captured queries read the records themselves (docs/dashboards.md: the dashboards read
only the rows the tasks precomputed).

The raw tables are every table of the apps whose records the figures count (cases,
disclosure, meetings, budgets, deliberation), less the cases' own precomputed figure tables
(written by cases.figures' task, read by the governance recompute, never by these pages either).
"""

import re

from django.apps import apps

RAW_APPS = ("cases", "disclosure", "meetings", "budgets", "deliberation")
PRECOMPUTED = {
    "cases_casefigure",
    "cases_caseclosetime",
    "cases_townshipfigure",
    "cases_townshipclosetime",
}


def raw_tables() -> set[str]:
    tables = {
        model._meta.db_table
        for app in RAW_APPS
        for model in apps.get_app_config(app).get_models(include_auto_created=True)
    }
    return tables - PRECOMPUTED


def tables_read(sql: str) -> set[str]:
    """The quoted table names of a query (SQLite and PostgreSQL both quote with ")."""
    return set(re.findall(r'"([a-z0-9_]+)"\."', sql)) | set(
        re.findall(r'(?:FROM|JOIN)\s+"([a-z0-9_]+)"', sql)
    )


def raw_reads(queries) -> list[tuple[set[str], str]]:
    """(raw tables, SQL) of each captured query that reads a raw table."""
    raw = raw_tables()
    found = []
    for query in queries:
        hit = tables_read(query["sql"]) & raw
        if hit:
            found.append((hit, query["sql"]))
    return found
