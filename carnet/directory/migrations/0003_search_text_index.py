"""The full-text index of SearchEntry.document, one per database vendor.

PostgreSQL: the unaccent and pg_trgm extensions; `carnet_unaccent`, an
IMMUTABLE wrapper of unaccent (the extension's own function is only STABLE,
so it cannot appear in a generated column or an index); a generated
`search_vector` tsvector ('simple' configuration over the unaccented
document) with a GIN index; `directory_searchterm`, the vocabulary of the
index (every distinct lexeme) with a GIN trigram index for typo matching
and a prefix index; a GIN index on the spoken languages.

SQLite: an FTS5 external-content table over the document (unicode61 with
remove_diacritics 2: case and accents do not matter), kept in sync by
triggers, and an fts5vocab table listing its terms (typo matching).
Note for later migrations on SQLite: Django rebuilds a table it alters, which
drops its triggers; `reindex_search` re-creates them (IF NOT EXISTS).
"""

from django.db import migrations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION carnet_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$;
"""
PG_CREATE = """
ALTER TABLE directory_searchentry ADD COLUMN search_vector tsvector
  GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, carnet_unaccent(document))) STORED;
CREATE INDEX directory_searchentry_vector
  ON directory_searchentry USING gin (search_vector);
CREATE INDEX directory_searchentry_languages
  ON directory_searchentry USING gin (languages jsonb_path_ops);
CREATE TABLE directory_searchterm (term text PRIMARY KEY);
CREATE INDEX directory_searchterm_trgm
  ON directory_searchterm USING gin (term gin_trgm_ops);
CREATE INDEX directory_searchterm_prefix
  ON directory_searchterm (term text_pattern_ops);
"""
PG_DROP = """
DROP TABLE IF EXISTS directory_searchterm;
DROP INDEX IF EXISTS directory_searchentry_languages;
ALTER TABLE directory_searchentry DROP COLUMN IF EXISTS search_vector;
DROP FUNCTION IF EXISTS carnet_unaccent(text);
"""

SQLITE_CREATE = [
    """CREATE VIRTUAL TABLE directory_searchentry_fts USING fts5(
        document,
        content='directory_searchentry',
        content_rowid='id',
        tokenize="unicode61 remove_diacritics 2"
    )""",
    """CREATE VIRTUAL TABLE directory_searchentry_vocab
        USING fts5vocab('directory_searchentry_fts', 'row')""",
    """CREATE TRIGGER IF NOT EXISTS directory_searchentry_fts_insert
        AFTER INSERT ON directory_searchentry BEGIN
        INSERT INTO directory_searchentry_fts (rowid, document)
        VALUES (new.id, new.document);
    END""",
    """CREATE TRIGGER IF NOT EXISTS directory_searchentry_fts_delete
        AFTER DELETE ON directory_searchentry BEGIN
        INSERT INTO directory_searchentry_fts (directory_searchentry_fts, rowid, document)
        VALUES ('delete', old.id, old.document);
    END""",
    """CREATE TRIGGER IF NOT EXISTS directory_searchentry_fts_update
        AFTER UPDATE OF document ON directory_searchentry BEGIN
        INSERT INTO directory_searchentry_fts (directory_searchentry_fts, rowid, document)
        VALUES ('delete', old.id, old.document);
        INSERT INTO directory_searchentry_fts (rowid, document)
        VALUES (new.id, new.document);
    END""",
    "INSERT INTO directory_searchentry_fts (directory_searchentry_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS directory_searchentry_fts_insert",
    "DROP TRIGGER IF EXISTS directory_searchentry_fts_delete",
    "DROP TRIGGER IF EXISTS directory_searchentry_fts_update",
    "DROP TABLE IF EXISTS directory_searchentry_vocab",
    "DROP TABLE IF EXISTS directory_searchentry_fts",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT quote_ident(n.nspname) FROM pg_extension e "
                "JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname = 'unaccent'"
            )
            (schema,) = cursor.fetchone()
        schema_editor.execute(PG_FUNCTION.format(schema=schema))
        schema_editor.execute(PG_CREATE)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_search_entry")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
