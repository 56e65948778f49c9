"""The Wagtail admin home tells federal staff when the search answers from the database, and why
(search.backend.staff_warning): a refused password or key is not left as a silent fallback."""

from wagtail import hooks
from wagtail.admin.ui.components import Component

from search import backend


class ElasticsearchFailurePanel(Component):
    name = "elasticsearch_failure"
    order = 10  # above Wagtail's own panels
    template_name = "search/admin_elasticsearch_failure.html"

    def __init__(self, failure: backend.Failure):
        self.failure = failure

    def get_context_data(self, parent_context=None):
        return {"failure": self.failure}


@hooks.register("construct_homepage_panels")
def warn_staff_of_an_elasticsearch_failure(request, panels):
    failure = backend.staff_warning(request.user)
    if failure is not None:
        panels.append(ElasticsearchFailurePanel(failure))
