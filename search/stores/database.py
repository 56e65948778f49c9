"""The embedded store: SearchEntry rows and the database's own full-text index.

SQLite: FTS5 (search/migrations/0002) over stems computed by `search.text`; one MATCH expression
carries both the words and the caller's audience keys, so the engine filters before ranking (bm25),
counting, faceting and paginating. PostgreSQL: the generated `vector` (French configuration with
unaccent) and `audience_keys` columns, both GIN-indexed; ts_rank orders.

All terms must match; when that finds nothing and several words were typed, the store asks again
with any of them (`SearchResults.relaxed`, without facets), which the page says.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from django.db import connection, transaction

from search import text
from search.documents import (
    MAX_QUERY_TERMS,
    FacetValue,
    Hit,
    SearchDocument,
    SearchQuery,
    SearchResults,
    Suggestion,
)
from search.models import SearchEntry
from search.stores.base import Store

BATCH = 1000
# Up to this many matches, one ranked pass serves count, facets and page (see _single_pass).
SINGLE_PASS_LIMIT = 20_000
# SQLite: up to this many matches, results are ordered by relevance (bm25); beyond, see _search.
RANK_LIMIT = 3_000
FACET_SIZES = {"kind": 10, "theme": 20, "region": 20}
# What a hit shows, in the order _hits reads it.
PAGE_COLUMNS = "e.key, e.kind, e.title, e.url, e.body, e.date, e.author"


def _quote(term: str) -> str:
    """One FTS5 string: double quotes doubled, so nothing typed is ever syntax."""
    return '"' + term.replace('"', '""') + '"'


def entry_for(document: SearchDocument) -> SearchEntry:
    return SearchEntry(
        key=document.key, kind=document.kind, title=document.title[:300], body=document.body,
        url=document.url[:500], audience=" ".join(sorted(set(document.audience))), date=document.date,
        author=document.author[:200], themes=sorted(set(document.themes)), region=document.region[:150],
        title_terms=text.index_terms(document.title), body_terms=text.index_terms(document.body),
        prefix_terms=text.prefix_terms(document.title),
    )


class DatabaseStore(Store):
    name = "database"

    @property
    def vendor(self) -> str:
        return connection.vendor

    # --- writing -----------------------------------------------------------------------------

    def index(self, documents: Iterable[SearchDocument]) -> int:
        written = 0
        for batch in _batches(documents, BATCH):
            entries = [entry_for(document) for document in batch]
            with transaction.atomic():
                SearchEntry.objects.filter(key__in=[e.key for e in entries]).delete()
                SearchEntry.objects.bulk_create(entries)
            written += len(entries)
        return written

    def delete(self, keys: Iterable[str], *, version: int = 0) -> int:
        # The embedded store keeps no versions (docs/architecture.md, Search): `version` is ignored.
        keys = list(keys)
        deleted = 0
        for start in range(0, len(keys), BATCH):
            deleted += SearchEntry.objects.filter(key__in=keys[start:start + BATCH]).delete()[0]
        return deleted

    def rebuild(self, documents: Iterable[SearchDocument], *, total: int | None = None,
                progress: Callable[[int], None] | None = None) -> int:
        """One transaction: readers keep the old index until it commits (no empty search)."""
        written = 0
        with transaction.atomic():
            SearchEntry.objects.all().delete()
            for batch in _batches(documents, BATCH):
                SearchEntry.objects.bulk_create([entry_for(document) for document in batch])
                written += len(batch)
                if progress:
                    progress(len(batch))
        if self.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        return written

    def count(self) -> int:
        return SearchEntry.objects.count()

    # --- reading -----------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResults:
        terms = text.query_terms(query.text, limit=MAX_QUERY_TERMS)
        if not terms or not query.audience:
            return SearchResults(store=self.name)
        results = self._search(query, terms)
        if results.total == 0 and len(terms) > 1:
            results = self._relaxed(query, terms)
            results.relaxed = results.total > 0
        return results

    def _relaxed(self, query: SearchQuery, terms: list[str]) -> SearchResults:
        """Documents with any of the words, when none has them all: a count and one ordered page.

        No facets: counts over "any of the words" say little (a common word alone matches a good part
        of the forum), and leaving them out spares the pass over every match that they cost — this
        fallback was the slowest search of the benchmark (bench/bench_search.py, "réunion nationale")."""
        filters, filter_params = self._filters(query)
        if self.vendor == "postgresql":
            match_sql, match_params = self._pg_match(query, terms, any_term=True)
            source = f"search_searchentry e, ({match_sql}) q"
            where = "e.vector @@ q.query AND e.audience_keys && %s::text[]"
            params = [*match_params, sorted(query.audience)]
            # One pass: the page's ids ranked, each carrying the count of every match (a window over
            # the matches, before LIMIT); the page's rows after.
            ranked = self._rows(
                f"SELECT e.id, count(*) OVER () FROM {source} WHERE {where}{filters} "
                "ORDER BY ts_rank(e.vector, q.query) DESC, e.date DESC NULLS LAST LIMIT %s OFFSET %s",
                params + filter_params + [query.per_page, query.offset],
            )
            if ranked:
                total = int(ranked[0][1])
            else:  # a page beyond the last: the count alone
                total = self._scalar(f"SELECT count(*) FROM {source} WHERE {where}{filters}", params + filter_params)
            return SearchResults(total=total, hits=self._hits(self._page_rows([row[0] for row in ranked]), terms),
                                 facets={name: [] for name in FACET_SIZES}, store=self.name)
        words = " OR ".join(_quote(term) for term in terms)
        keys = " OR ".join(_quote(key) for key in sorted(query.audience))
        source = "search_fts JOIN search_searchentry e ON e.id = search_fts.rowid"
        where = "search_fts MATCH %s"
        params = [f"{{title_terms body_terms}} : ({words}) AND audience : ({keys})"]
        if filters:
            total = self._scalar(f"SELECT count(*) FROM {source} WHERE {where}{filters}", params + filter_params)
        else:
            total = self._scalar(f"SELECT count(*) FROM search_fts WHERE {where}", params)
        rows = self._ordered_page(PAGE_COLUMNS, source, where + filters, params + filter_params,
                                  self._sqlite_order(words, total), query) if total else []
        return SearchResults(total=total, hits=self._hits(rows, terms), facets={name: [] for name in FACET_SIZES},
                             store=self.name)

    def _ordered_page(self, columns: str, source: str, where: str, params: list, order: tuple[str, list],
                      query: SearchQuery) -> list[tuple]:
        """The requested page of the matches of `where` (chosen facets included), in `order`."""
        return self._rows(f"SELECT {columns} FROM {source} WHERE {where} ORDER BY {order[0]} LIMIT %s OFFSET %s",
                          params + order[1] + [query.per_page, query.offset])

    @staticmethod
    def _sqlite_order(words: str, matching: int) -> tuple[str, list]:
        """bm25 over at most RANK_LIMIT matches, where it is cheap enough; beyond, documents whose
        TITLE has the words first, newest first (a common word in 10 000 forum posts: recency says
        more). The title sub-query needs no audience: the outer query has it."""
        if matching <= RANK_LIMIT:
            return "bm25(search_fts, 4.0, 1.0, 0.0, 0.0), e.date DESC", []
        return ("e.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH %s) DESC, e.date DESC",
                [f"title_terms : ({words})"])

    def _search(self, query: SearchQuery, terms: list[str]) -> SearchResults:
        if self.vendor != "postgresql":
            words = " AND ".join(_quote(term) for term in terms)
            keys = " OR ".join(_quote(key) for key in sorted(query.audience))
            return self._sqlite_search(
                query, terms, words, "search_fts JOIN search_searchentry e ON e.id = search_fts.rowid",
                "search_fts MATCH %s", [f"{{title_terms body_terms}} : ({words}) AND audience : ({keys})"])
        match_sql, match_params = self._pg_match(query, terms, any_term=False)
        source = f"search_searchentry e, ({match_sql}) q"
        where = "e.vector @@ q.query AND e.audience_keys && %s::text[]"
        params = [*match_params, sorted(query.audience)]
        # Measured: ts_rank over every match costs less than counting them first, so PostgreSQL
        # always ranks by relevance and skips the count.
        order = ("ts_rank(e.vector, q.query) DESC, e.date DESC NULLS LAST", [])
        themes = "e.themes::text"  # parsed once per distinct value here, not per row by the driver
        ranked = self._rows(
            f"SELECT e.id, e.kind, e.region, {themes} FROM {source} WHERE {where} ORDER BY {order[0]} LIMIT %s",
            params + order[1] + [SINGLE_PASS_LIMIT + 1],
        )
        if len(ranked) <= SINGLE_PASS_LIMIT:
            return self._single_pass(query, terms, ranked)
        # Too many matches to hold: count, group and page in the database.
        facets = self._facets(source, where, params)
        filters, filter_params = self._filters(query)
        total = self._scalar(f"SELECT count(*) FROM {source} WHERE {where}{filters}", params + filter_params)
        rows = self._ordered_page(PAGE_COLUMNS, source, where + filters, params + filter_params, order,
                                  query) if total else []
        return SearchResults(total=total, hits=self._hits(rows, terms), facets=facets, store=self.name)

    def _sqlite_search(self, query: SearchQuery, terms: list[str], words: str, source: str, where: str,
                       params: list) -> SearchResults:
        """SQLite: the matches grouped by (kind, region, themes) give the count and the facets; one
        ordered query gives the page's ids, the chosen facets applied. Measured against fetching every
        ranked match into Python (bench/bench_search.py): a third less time on 7 000 matches."""
        grouped = self._rows(f"SELECT e.kind, e.region, e.themes, count(*) FROM {source} WHERE {where} "
                             "GROUP BY e.kind, e.region, e.themes", params)
        if not grouped:
            return SearchResults(facets={name: [] for name in FACET_SIZES}, store=self.name)
        facets, chosen = self._combinations(query, {(kind, region, raw): count for kind, region, raw, count in grouped})
        total = sum(count for _combination, count in chosen)
        page_ids = []
        if total > query.offset:
            filters, filter_params = self._filters(query)
            order = self._sqlite_order(words, sum(count for *_rest, count in grouped))
            page_ids = [row[0] for row in self._ordered_page("e.id", source, where + filters, params + filter_params,
                                                             order, query)]
        return SearchResults(total=total, hits=self._hits(self._page_rows(page_ids), terms), facets=facets,
                             store=self.name)

    def _combinations(self, query: SearchQuery, combinations: dict[tuple, int]
                      ) -> tuple[dict[str, list[FacetValue]], list[tuple[tuple, int]]]:
        """Facets from the matches counted per (kind, region, themes), and the combinations the chosen
        facets keep (with their counts). Matches share few combinations: the work is per combination,
        not per match."""
        kinds, regions, themes = Counter(), Counter(), Counter()
        parsed: dict = {}
        chosen = []
        for (kind, region, raw_themes), count in combinations.items():
            if isinstance(raw_themes, str):
                entry_themes = parsed.get(raw_themes)
                if entry_themes is None:
                    entry_themes = parsed[raw_themes] = json.loads(raw_themes or "[]")
            else:
                entry_themes = raw_themes or []
            kinds[kind] += count
            if region:
                regions[region] += count
            for theme in entry_themes:
                themes[theme] += count
            if ((not query.kind or kind == query.kind) and (not query.region or region == query.region)
                    and (not query.theme or query.theme in entry_themes)):
                chosen.append(((kind, region, raw_themes), count))
        facets = {
            name: [FacetValue(str(value), count)
                   for value, count in sorted(counter.items(), key=lambda item: (-item[1], str(item[0])))
                   [:FACET_SIZES[name]]]
            for name, counter in (("kind", kinds), ("theme", themes), ("region", regions))
        }
        return facets, chosen

    def _single_pass(self, query: SearchQuery, terms: list[str], ranked: list[tuple]) -> SearchResults:
        """PostgreSQL: the ranked matches (id, kind, region, themes) give the count, the facets and
        the page's ids; one more query reads the page's rows. Cheaper there than ranking, counting and
        grouping in separate passes when the matches are few enough to hold (SINGLE_PASS_LIMIT)."""
        combinations = Counter((kind, region, raw_themes) for _, kind, region, raw_themes in ranked)
        facets, chosen = self._combinations(query, combinations)
        if len(chosen) == len(combinations):
            selected = ranked
        else:
            kept = {combination for combination, _count in chosen}
            selected = [row for row in ranked if (row[1], row[2], row[3]) in kept]
        rows = self._page_rows([row[0] for row in selected[query.offset:query.offset + query.per_page]])
        return SearchResults(total=len(selected), hits=self._hits(rows, terms), facets=facets, store=self.name)

    def _page_rows(self, page_ids: list[int]) -> list[tuple]:
        """The rows a page shows, in the order of `page_ids`."""
        if not page_ids:
            return []
        by_id = {row[0]: row[1:] for row in self._rows(
            f"SELECT e.id, {PAGE_COLUMNS} FROM search_searchentry e "
            f"WHERE e.id IN ({', '.join(['%s'] * len(page_ids))})", page_ids)}
        return [by_id[pk] for pk in page_ids if pk in by_id]

    @staticmethod
    def _hits(rows, terms) -> list[Hit]:
        return [
            Hit(key=key, kind=kind, title=title, url=url, date=_as_datetime(date), author=author,
                snippet=text.highlight(body or title, terms))
            for key, kind, title, url, body, date, author in rows
        ]

    def _pg_match(self, query: SearchQuery, terms: list[str], any_term: bool) -> tuple[str, list]:
        # The folded words (stop words out) go through PostgreSQL's own French configuration, which
        # stems them as it stemmed the indexed text; plainto_tsquery never parses operators.
        words = text.query_words(query.text)[:MAX_QUERY_TERMS]
        if any_term:
            parts = " || ".join(["plainto_tsquery('passerelles_fr', %s)"] * len(words))
            return f"SELECT ({parts}) AS query", words
        return "SELECT plainto_tsquery('passerelles_fr', %s) AS query", [" ".join(words)]

    def _filters(self, query: SearchQuery) -> tuple[str, list]:
        # SQLite: the unary "+" keeps the planner off the kind/region B-tree indexes. Measured with
        # 20 000+ matches: starting from those indexes and probing the full-text index row by row took
        # seconds; starting from the full-text match takes milliseconds.
        column = "+e.{}" if self.vendor == "sqlite" else "e.{}"
        sql, params = "", []
        if query.kind:
            sql += f" AND {column.format('kind')} = %s"
            params.append(query.kind)
        if query.region:
            sql += f" AND {column.format('region')} = %s"
            params.append(query.region)
        if query.theme:
            if self.vendor == "postgresql":
                sql += " AND e.themes @> %s::jsonb"
                params.append(f'["{_json_string(query.theme)}"]')
            else:
                sql += " AND EXISTS (SELECT 1 FROM json_each(e.themes) t WHERE t.value = %s)"
                params.append(query.theme)
        return sql, params

    def _facets(self, source: str, where: str, params: list) -> dict[str, list[FacetValue]]:
        """PostgreSQL, more matches than SINGLE_PASS_LIMIT: counts per kind, theme and region for the
        words and the audience (not the chosen facets)."""
        queries = {
            "kind": f"SELECT e.kind, count(*) FROM {source} WHERE {where} GROUP BY e.kind",
            "region": f"SELECT e.region, count(*) FROM {source} WHERE {where} AND e.region <> '' GROUP BY e.region",
            "theme": (f"SELECT t, count(*) FROM {source}, jsonb_array_elements_text(e.themes) t "
                      f"WHERE {where} GROUP BY t"),
        }
        facets = {}
        for name, sql in queries.items():
            rows = self._rows(sql, params)
            rows.sort(key=lambda row: (-row[1], str(row[0])))
            facets[name] = [FacetValue(str(value), count) for value, count in rows[:FACET_SIZES[name]]]
        return facets

    def autocomplete(self, text_typed: str, audience: frozenset[str], kinds: tuple[str, ...],
                     limit: int = 8) -> list[Suggestion]:
        words = text.query_prefixes(text_typed, limit=6)
        if not words or not audience or not kinds:
            return []
        kind_sql = ", ".join(["%s"] * len(kinds))
        if self.vendor == "postgresql":
            tsquery = " & ".join(f"{_pg_lexeme(w)}:*" if i == len(words) - 1 else _pg_lexeme(w)
                                 for i, w in enumerate(words))
            rows = self._rows(
                "SELECT e.kind, e.title, e.url FROM search_searchentry e "
                "WHERE e.prefix_vector @@ to_tsquery('simple', %s) AND e.audience_keys && %s::text[] "
                f"AND e.kind IN ({kind_sql}) ORDER BY length(e.title), e.title LIMIT %s",
                [tsquery, sorted(audience), *kinds, limit],
            )
        else:
            parts = [_quote(w) + ("*" if i == len(words) - 1 else "") for i, w in enumerate(words)]
            keys = " OR ".join(_quote(key) for key in sorted(audience))
            expression = f"prefix_terms : ({' AND '.join(parts)}) AND audience : ({keys})"
            rows = self._rows(
                "SELECT e.kind, e.title, e.url FROM search_fts JOIN search_searchentry e ON e.id = search_fts.rowid "
                f"WHERE search_fts MATCH %s AND e.kind IN ({kind_sql}) ORDER BY length(e.title), e.title LIMIT %s",
                [expression, *kinds, limit],
            )
        return [Suggestion(kind=kind, title=title, url=url) for kind, title, url in rows]

    # --- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _rows(sql: str, params: list) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]

    def _scalar(self, sql: str, params: list) -> int:
        rows = self._rows(sql, params)
        return int(rows[0][0]) if rows else 0


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _json_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _pg_lexeme(word: str) -> str:
    """A folded word as a to_tsquery lexeme: quoted, so nothing in it is an operator."""
    return "'" + word.replace("'", "''").replace("\\", "") + "'"


def _as_datetime(value):
    if value is None or not isinstance(value, str):
        return value
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(value)
    if parsed is not None and parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed
