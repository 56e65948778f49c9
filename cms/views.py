"""The few CMS views outside the page tree: document serving.

Home, resources, guides, events and news are Wagtail pages (cms.models): their logic lives there.
"""

from django.utils.cache import add_never_cache_headers
from wagtail.documents.views import serve as wagtail_serve


def serve_document(request, document_id, document_filename):
    """Wagtail's permission-checked document view (hooks in cms.wagtail_hooks decide who gets the
    file), with headers that keep every copy out of shared caches: documents are members-only."""
    response = wagtail_serve.serve(request, document_id, document_filename)
    add_never_cache_headers(response)
    return response
