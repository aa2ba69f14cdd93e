"""Fewer, cheaper indexes for a registry of millions of listings.

Measured in docs/performance.md (a million listings, PostgreSQL 15):

* Listing.subject and Listing.target_subject lose their own indexes: the
  unique (subject, target_subject, listed_on) index and listing_target_idx
  (target_subject, listed_on) begin with the same columns and serve the same
  lookups (a subject's listings, a list's listings, the foreign-key checks
  of a delete), so every import maintains two indexes fewer.
* PostgreSQL only: Subject.code and Subject.name compare byte by byte
  (COLLATE "C").  Codes are ASCII and Han names on a C.UTF-8 database
  already sort by code point, so no lookup or ordering changes; but a "C"
  b-tree is built and probed with memcmp instead of strcoll (about 1.5 times
  faster to build), and it also serves LIKE 'prefix%', which makes Django's
  second, varchar_pattern_ops ("_like") index on each column redundant.
  SQLite has no "C" collation, so the model fields keep the default; a
  later AlterField that retypes either column on PostgreSQL must say
  COLLATE "C" again (and drop the _like index Django recreates).
"""

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = [("code", 18), ("name", 200)]


def _like_index(schema_editor, column):
    return schema_editor._create_index_name("subjects_subject", [column], suffix="_like")


def bytewise(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute(
        "ALTER TABLE subjects_subject "
        + ", ".join(
            f'ALTER COLUMN {quote(column)} TYPE varchar({length}) COLLATE "C"'
            for column, length in COLUMNS
        )
    )
    for column, _ in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(_like_index(schema_editor, column))}")


def by_locale(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute(
        "ALTER TABLE subjects_subject "
        + ", ".join(
            f'ALTER COLUMN {quote(column)} TYPE varchar({length}) COLLATE "default"'
            for column, length in COLUMNS
        )
    )
    for column, _ in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(_like_index(schema_editor, column))}"
            f" ON subjects_subject ({quote(column)} varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("subjects", "0003_subject_name_trigram_index")]

    operations = [
        migrations.AlterField(
            model_name="listing",
            name="subject",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="listings",
                to="subjects.subject",
                verbose_name="主体",
            ),
        ),
        migrations.AlterField(
            model_name="listing",
            name="target_subject",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="listings",
                to="subjects.targetsubject",
                verbose_name="名单类别",
            ),
        ),
        migrations.RunPython(bytewise, by_locale),
    ]
