from django.views.generic import TemplateView

from directory.mixins import MemberRequiredMixin


class SearchView(MemberRequiredMixin, TemplateView):
    """The one search box. The search issue plugs the indexes in; until then it says so."""

    template_name = "search/search.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["query"] = self.request.GET.get("q", "")[:200]
        return context
