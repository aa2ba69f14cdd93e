"""A trigram index so that searching a million names by a part stays fast.

PostgreSQL only (pg_trgm): it indexes Chinese text on a database whose
ctype classifies Han characters (C.UTF-8 and zh_CN.UTF-8 do; plain C does
not).  A query of one or two characters cannot use a trigram index; the
search falls back to a prefix match for those (subjects/search.py).
SQLite keeps the plain b-tree index on name.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS subject_name_trgm_idx "
    "ON subjects_subject USING gin (name gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS subject_name_trgm_idx"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("subjects", "0002_historicalsubject_subject_listing_historicallisting_and_more")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
