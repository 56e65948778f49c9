"""Directory pages (members only). Reads and access rules live in directory.selectors/access."""

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from directory import fragments, selectors
from directory.content_versions import ASSOCIATIONS_SCOPE, REFERENCE_SCOPE
from directory.forms import AssociationFilterForm, OfferForm
from directory.mixins import MemberRequiredMixin


class AssociationListView(MemberRequiredMixin, TemplateView):
    """The association list, filtered by slugs in the query string and paginated.

    Malformed filters or page numbers answer 400 with the page and a message; unknown but
    well-formed slugs just give an empty list.
    """

    template_name = "directory/association_list.html"

    def get(self, request, *args, **kwargs):
        # The reference rows (regions, cours, juridictions, themes) are read only to render the filter form
        # when it is not in the cache, or to name unknown filter values.
        form = AssociationFilterForm(request.GET, choices=selectors.filter_choices)
        if not form.is_valid():
            return self.render_invalid(form, _("Certains filtres ne sont pas valides. Corrigez-les ci-dessous."))
        paginator = Paginator(selectors.associations_for(request.user, form.filters()), settings.DIRECTORY_PAGE_SIZE)
        try:
            page = paginator.page(request.GET.get("page") or 1)
        except InvalidPage:
            return self.render_invalid(
                form,
                _("Cette page de résultats n'existe pas. Revenez à la première page de la liste."),
            )
        context = self.get_context_data(
            form=SimpleLazyObject(form.load_choices),
            # The filter form is the same for every member and these filters (directory.fragments).
            filter_form_audience=fragments.audience("directory-filter-form"),
            filter_form_stamp=fragments.stamp(fragments.content_version(REFERENCE_SCOPE),
                                              sorted((name, str(value)) for name, value in form.cleaned_data.items())),
            # The page's associations as the reader may see them (their access profile), read only when
            # the list is not in the cache.
            results_audience=fragments.profile_audience(request.user),
            results_stamp=fragments.stamp(
                fragments.content_version(ASSOCIATIONS_SCOPE), fragments.content_version(REFERENCE_SCOPE),
                sorted((name, str(value)) for name, value in form.cleaned_data.items()), page.number),
            page_obj=page,
            paginator=paginator,
            associations=page.object_list,
            result_count=paginator.count,
            # Read (with the reference rows) only when its fragment is not in the cache.
            unknown_filters=SimpleLazyObject(form.unknown_filters),
        )
        return self.render_to_response(context)

    def render_invalid(self, form, message):
        form.load_choices()
        context = self.get_context_data(
            form=form, page_obj=None, associations=[], result_count=0, error_message=message, invalid=True
        )
        return self.render_to_response(context, status=400)


class AssociationDetailView(MemberRequiredMixin, TemplateView):
    template_name = "directory/association_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        detail = selectors.association_detail(self.request.user, kwargs["slug"])
        if detail is None:
            raise Http404(_("Aucune association ne correspond à cette adresse."))
        context["detail"] = detail
        context["association"] = detail.association
        return context


class PersonDetailView(MemberRequiredMixin, TemplateView):
    template_name = "directory/person_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        detail = selectors.person_detail(self.request.user, kwargs["username"])
        if detail is None:
            raise Http404(_("Aucune personne ne correspond à cette adresse."))
        context["detail"] = detail
        context["person"] = detail.person
        return context


class OfferByJuridictionView(MemberRequiredMixin, TemplateView):
    """Fiche I.5: which member associations offer which measures on a juridiction or cour d'appel."""

    template_name = "directory/offer.html"

    def get(self, request, *args, **kwargs):
        form = OfferForm(request.GET, choices=selectors.filter_choices())
        if not form.is_valid():
            context = self.get_context_data(
                form=form, table=None, invalid=True,
                error_message=_("Le choix de juridiction ou de cour d'appel n'est pas valide. Corrigez-le ci-dessous."),
            )
            return self.render_to_response(context, status=400)
        juridiction, cour = form.cleaned_data["juridiction"], form.cleaned_data["cour"]
        table = None
        if juridiction or cour:
            table = selectors.offer_by_juridiction(request.user, juridiction=juridiction, cour=cour)
        return self.render_to_response(self.get_context_data(form=form, table=table))
