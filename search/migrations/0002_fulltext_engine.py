"""The full-text index behind SearchEntry, written per database engine (see search/models.py).

SQLite: an FTS5 table over the stemmed columns and the audience keys (external content: the text
lives once, in search_searchentry), kept in sync by triggers. Audience keys keep their ":" "-" "."
"_" inside one token so that `forum:12` is one term.

PostgreSQL: the `unaccent` extension, a `passerelles_fr` text search configuration (French stemming
after unaccent), a generated tsvector column (title weighted A, body B) and a generated array of
audience keys, both GIN-indexed, so the audience filter and the match run inside one index scan.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """
    CREATE VIRTUAL TABLE search_fts USING fts5(
        title_terms, body_terms, prefix_terms, audience,
        content='search_searchentry', content_rowid='id',
        tokenize="unicode61 remove_diacritics 2 tokenchars ':-._'"
    )
    """,
    """
    CREATE TRIGGER search_fts_after_insert AFTER INSERT ON search_searchentry BEGIN
        INSERT INTO search_fts(rowid, title_terms, body_terms, prefix_terms, audience)
        VALUES (new.id, new.title_terms, new.body_terms, new.prefix_terms, new.audience);
    END
    """,
    """
    CREATE TRIGGER search_fts_after_delete AFTER DELETE ON search_searchentry BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_terms, body_terms, prefix_terms, audience)
        VALUES ('delete', old.id, old.title_terms, old.body_terms, old.prefix_terms, old.audience);
    END
    """,
    """
    CREATE TRIGGER search_fts_after_update AFTER UPDATE ON search_searchentry BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_terms, body_terms, prefix_terms, audience)
        VALUES ('delete', old.id, old.title_terms, old.body_terms, old.prefix_terms, old.audience);
        INSERT INTO search_fts(rowid, title_terms, body_terms, prefix_terms, audience)
        VALUES (new.id, new.title_terms, new.body_terms, new.prefix_terms, new.audience);
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS search_fts_after_update",
    "DROP TRIGGER IF EXISTS search_fts_after_delete",
    "DROP TRIGGER IF EXISTS search_fts_after_insert",
    "DROP TABLE IF EXISTS search_fts",
]

POSTGRESQL_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'passerelles_fr') THEN
            CREATE TEXT SEARCH CONFIGURATION passerelles_fr (COPY = french);
            ALTER TEXT SEARCH CONFIGURATION passerelles_fr
                ALTER MAPPING FOR hword, hword_part, word, asciihword, asciiword, hword_asciipart
                WITH unaccent, french_stem;
        END IF;
    END $$
    """,
    """
    ALTER TABLE search_searchentry ADD COLUMN vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('passerelles_fr'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('passerelles_fr'::regconfig, coalesce(body, '')), 'B')
    ) STORED
    """,
    """
    ALTER TABLE search_searchentry ADD COLUMN audience_keys text[] GENERATED ALWAYS AS (
        string_to_array(audience, ' ')
    ) STORED
    """,
    """
    ALTER TABLE search_searchentry ADD COLUMN prefix_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, coalesce(prefix_terms, ''))
    ) STORED
    """,
    "CREATE INDEX search_entry_vector ON search_searchentry USING gin (vector)",
    "CREATE INDEX search_entry_audience ON search_searchentry USING gin (audience_keys)",
    "CREATE INDEX search_entry_prefix ON search_searchentry USING gin (prefix_vector)",
]
POSTGRESQL_BACKWARD = [
    "DROP INDEX IF EXISTS search_entry_prefix",
    "DROP INDEX IF EXISTS search_entry_audience",
    "DROP INDEX IF EXISTS search_entry_vector",
    "ALTER TABLE search_searchentry DROP COLUMN IF EXISTS prefix_vector",
    "ALTER TABLE search_searchentry DROP COLUMN IF EXISTS audience_keys",
    "ALTER TABLE search_searchentry DROP COLUMN IF EXISTS vector",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD}),
        ),
    ]
