"""`/recherche/`: the one search page (HTML and `?format=json`), and the navigation's suggestions."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from core import ratelimit
from directory.mixins import MemberRequiredMixin
from search import audiences, backend
from search.documents import MAX_PAGE, MAX_QUERY_CHARS, PER_PAGE, Kind, SearchQuery, SearchResults

MAX_FILTER_CHARS = 150


def _refused(request, rate: ratelimit.Rate, *, as_json: bool = False):
    """None when the person may search once more now (and counts it), else the 429 answer."""
    verdict = ratelimit.attempt(rate, str(request.user.pk))
    if verdict.allowed:
        return None
    return ratelimit.too_many_requests(
        request, verdict, _("Vous avez lancé beaucoup de recherches en peu de temps."), as_json=as_json)


def _page_number(raw: str | None) -> int:
    try:
        number = int(raw or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def parse_query(request) -> tuple[SearchQuery, list[str]]:
    """The query a request asks for, within limits, and the notes to show about what was changed."""
    notes = []
    text = " ".join(request.GET.get("q", "").split())
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notes.append(_("Votre recherche était très longue : seuls ses %(n)d premiers caractères ont été pris "
                       "en compte.") % {"n": MAX_QUERY_CHARS})
    kind = request.GET.get("type", "")
    if kind not in Kind.ALL:
        kind = ""
    query = SearchQuery(
        text=text, audience=audiences.keys_for(request.user), kind=kind,
        theme=request.GET.get("theme", "")[:MAX_FILTER_CHARS], region=request.GET.get("region", "")[:MAX_FILTER_CHARS],
        page=_page_number(request.GET.get("page")), per_page=PER_PAGE,
    )
    return query, notes


class SearchView(MemberRequiredMixin, TemplateView):
    template_name = "search/search.html"

    def get(self, request, *args, **kwargs):
        query, notes = parse_query(request)
        if query.text:  # the empty page costs nothing: only searches count
            refused = _refused(request, ratelimit.Rate.configured("search", "SEARCH"))
            if refused:
                return refused
        results = backend.search(query) if query.text else SearchResults()
        if request.GET.get("format") == "json":
            return JsonResponse(self.as_json(query, results), json_dumps_params={"ensure_ascii": False})
        # Federal staff see why the search answers from the database, not just that it does.
        context = self.get_context_data(search=query, results=results, notes=notes, query=query.text,
                                        elasticsearch_failure=backend.staff_warning(request.user),
                                        **self.pagination(query, results), facets=self.facets(query, results))
        return self.render_to_response(context)

    @staticmethod
    def as_json(query: SearchQuery, results: SearchResults) -> dict:
        return {
            "total": results.total,
            "page": query.page,
            "results": [
                {"kind": hit.kind, "title": hit.title, "url": hit.url, "snippet": hit.snippet,
                 "date": hit.date.isoformat() if hit.date else None, "author": hit.author}
                for hit in results.hits
            ],
            "facets": {name: [{"value": v.value, "count": v.count} for v in values]
                       for name, values in results.facets.items()},
        }

    def _url(self, query: SearchQuery, **changes) -> str:
        params = {"q": query.text, "type": query.kind, "theme": query.theme, "region": query.region, "page": 1}
        params.update(changes)
        return reverse("search:search") + "?" + urlencode({k: v for k, v in params.items() if v not in ("", None, 1)})

    @staticmethod
    def pagination(query: SearchQuery, results: SearchResults) -> dict:
        """The site's pagination include wants a page object: one over the (capped) result count."""
        reachable = min(results.total, MAX_PAGE * query.per_page)
        page_obj = Paginator(range(reachable), query.per_page).get_page(query.page)
        return {
            "page_obj": page_obj,
            "first_result": query.offset + 1 if results.hits else 0,
            "last_result": query.offset + len(results.hits),
            "beyond_last_page": bool(results.total) and not results.hits,
        }

    def facets(self, query: SearchQuery, results: SearchResults) -> list[dict]:
        """Facet groups for the template: each value links to the search narrowed (or widened) by it."""
        groups = []
        for name, param, label in (("kind", "type", _("Nature")), ("theme", "theme", _("Thématique")),
                                   ("region", "region", _("Région"))):
            current = {"kind": query.kind, "theme": query.theme, "region": query.region}[name]
            values = []
            for facet in results.facets.get(name, []):
                selected = facet.value == current
                values.append({
                    "label": str(Kind.LABELS.get(facet.value, facet.value)) if name == "kind" else facet.value,
                    "count": facet.count, "selected": selected,
                    "url": self._url(query, **{param: "" if selected else facet.value}),
                })
            if values:
                groups.append({"name": name, "label": label, "values": values,
                               "clear_url": self._url(query, **{param: ""}) if current else ""})
        return groups


class SuggestView(MemberRequiredMixin, View):
    """`/recherche/suggestions/?q=` → JSON suggestions (associations, people, guides) for the header box."""

    def get(self, request, *args, **kwargs):
        text = " ".join(request.GET.get("q", "").split())[:MAX_QUERY_CHARS]
        suggestions = []
        if len(text) >= 2:
            refused = _refused(request, ratelimit.Rate.configured("search-suggest", "SEARCH_SUGGEST"), as_json=True)
            if refused:
                return refused
            suggestions = backend.autocomplete(text, audiences.keys_for(request.user), Kind.AUTOCOMPLETE, limit=8)
        return JsonResponse({"results": [
            {"kind": s.kind, "kind_label": str(Kind.LABELS[s.kind]), "title": s.title, "url": s.url}
            for s in suggestions
        ]}, json_dumps_params={"ensure_ascii": False})


class ForumSearchRedirect(View):
    """machina's own search URL (haystack) now leads to the one search, narrowed to the forum."""

    def get(self, request, *args, **kwargs):
        params = {"q": request.GET.get("q", "")[:MAX_QUERY_CHARS], "type": Kind.TOPIC}
        return redirect(reverse("search:search") + "?" + urlencode({k: v for k, v in params.items() if v}))
