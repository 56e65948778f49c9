"""PostgreSQL: drop the GIN index on audience keys.

Measured at 110 000 documents (bench/results/search.postgresql.json): a caller's keys cover most of
the index (`members`, the forums they read…), so the planner's BitmapAnd of the words' index with the
audience index read ~77 000 audience entries per search (26 ms of 35). The words' index is the
selective one; the audience filter is then checked on its few thousand rows, in the same query.
"""

from django.db import migrations


def _run(statement_by_vendor):
    def run(apps, schema_editor):
        statement = statement_by_vendor.get(schema_editor.connection.vendor)
        if statement:
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0002_fulltext_engine")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": "DROP INDEX IF EXISTS search_entry_audience"}),
            _run({"postgresql": "CREATE INDEX search_entry_audience ON search_searchentry USING gin (audience_keys)"}),
        ),
    ]
