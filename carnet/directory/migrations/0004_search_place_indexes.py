"""Place searches: city_key equality/prefix and postcode prefix, per vendor.

PostgreSQL: pattern-ops btree indexes (LIKE 'prefix%' under any collation)
covering latitude and longitude, so a place's centre (AVG over its entries)
is read from the index alone. SQLite: plain indexes (it has no covering
columns; its LIKE is case-insensitive, so prefix filters scan the index).
"""

from django.db import migrations

PG_CREATE = """
CREATE INDEX search_city ON directory_searchentry
  (city_key varchar_pattern_ops) INCLUDE (latitude, longitude);
CREATE INDEX search_postcode_prefix ON directory_searchentry
  (postcode varchar_pattern_ops) INCLUDE (latitude, longitude);
"""
SQLITE_CREATE = [
    "CREATE INDEX search_city ON directory_searchentry (city_key)",
    "CREATE INDEX search_postcode_prefix ON directory_searchentry (postcode)",
]
DROP = [
    "DROP INDEX IF EXISTS search_city",
    "DROP INDEX IF EXISTS search_postcode_prefix",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor in ("postgresql", "sqlite"):
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("directory", "0003_search_text_index")]
    operations = [
        migrations.RemoveIndex(model_name="searchentry", name="search_city_key"),
        migrations.RemoveIndex(model_name="searchentry", name="search_postcode"),
        migrations.RunPython(create, drop, elidable=False),
    ]
