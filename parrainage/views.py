"""Parrainage pages (issue 7): the commission's match page and overview, the parrain's answer, the
onboarding steps, and the member's "Mon parrainage".

Views check access (403 for a member who may not act, 404 for what they may not see, login for
anonymous visitors) and call parrainage.services; refused or malformed input re-renders the page
with a French message and what was typed (status 400), never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from directory import access
from directory.mixins import MemberRequiredMixin
from directory.models import Association
from parrainage import selectors, services
from parrainage.forms import ChooseParrainForm, OverviewFilterForm, RespondForm, StepForm
from parrainage.models import OnboardingStep, Parrainage

OVERVIEW_PAGE_SIZE = 25


class MyParrainageView(MemberRequiredMixin, TemplateView):
    """The member's "Mon parrainage": their association's parrain and filleuls, each with its profile,
    contacts, chat and onboarding checklist, and the proposals their director has to answer."""

    template_name = "directory/parrainage.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parrainage"] = selectors.parrainage_summary(self.request.user)
        context["mine"] = selectors.my_parrainage(self.request.user)
        return context


class ParrainageManagerRequiredMixin(MemberRequiredMixin):
    """The membership commission and federal staff only."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and access.is_member(request.user) \
                and not access.can_manage_parrainages(request.user):
            raise PermissionDenied(_("Cette page est réservée à la commission d'adhésion et à l'équipe fédérale."))
        return super().dispatch(request, *args, **kwargs)


class ParrainageMatchView(ParrainageManagerRequiredMixin, TemplateView):
    """The commission picks a parrain for a filleul among the platform's proposals (score and reasons)."""

    template_name = "directory/parrainage/match.html"

    def page(self):
        page = selectors.match_page(
            self.request.user, self.kwargs["slug"], show_all=self.request.GET.get("toutes") == "1"
        )
        if page is None:
            raise Http404(_("Aucune association ne correspond à cette adresse."))
        return page

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("page", self.page())
        context.setdefault("form", ChooseParrainForm())
        return context

    def post(self, request, *args, **kwargs):
        page = self.page()
        form = ChooseParrainForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(page=page, form=form), status=400)
        chosen = Association.objects.filter(pk=form.cleaned_data["parrain"]).first()
        try:
            if chosen is None:
                raise services.ParrainageError(_("Cette association n'existe pas."))
            services.choose_parrain(request.user, page.filleul, chosen)
        except services.ParrainageError as error:
            form.add_error(None, str(error))
            return self.render_to_response(self.get_context_data(page=self.page(), form=form), status=400)
        messages.success(request, _("%(parrain)s est proposée comme parrain de %(filleul)s : sa direction est "
                                    "prévenue et doit répondre.") % {"parrain": chosen.name,
                                                                      "filleul": page.filleul.name})
        return redirect("parrainage:match", slug=page.filleul.slug)


class ParrainageRespondView(MemberRequiredMixin, TemplateView):
    """The proposed parrain's director accepts or declines (with a reason)."""

    template_name = "directory/parrainage/respond.html"

    def get_object(self) -> Parrainage:
        proposal = selectors.parrainage_for(self.request.user, self.kwargs["pk"])
        if proposal is None:
            raise Http404(_("Aucune proposition de parrainage ne correspond à cette adresse."))
        if not access.can_respond_to_parrainage(self.request.user, proposal):
            raise PermissionDenied(_("Seul·e la directrice ou le directeur de l'association proposée peut répondre."))
        return proposal

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("proposal", self.get_object())
        context.setdefault("form", RespondForm())
        return context

    def post(self, request, *args, **kwargs):
        proposal = self.get_object()
        form = RespondForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(proposal=proposal, form=form), status=400)
        try:
            answer = services.respond(request.user, proposal, form.accepted, form.cleaned_data["reason"])
        except services.ParrainageError as error:
            form.add_error(None, str(error))
            return self.render_to_response(self.get_context_data(proposal=self.get_object(), form=form), status=400)
        if form.accepted:
            messages.success(request, _("Merci ! Votre association parraine désormais %(filleul)s. Une discussion "
                                        "privée est ouverte entre les deux directions.")
                             % {"filleul": proposal.filleul.name})
            if answer.room is not None and answer.room.memberships.filter(user=request.user).exists():
                return redirect(answer.room.get_absolute_url())
        else:
            messages.success(request, _("Votre réponse est enregistrée : la commission d'adhésion proposera un autre "
                                        "parrain à %(filleul)s.") % {"filleul": proposal.filleul.name})
        return redirect("parrainage:mine")


class ParrainageStepsView(MemberRequiredMixin, TemplateView):
    """One parrainage and its onboarding checklist; POST ticks or un-ticks a step with its date."""

    template_name = "directory/parrainage/steps.html"

    def get_object(self) -> Parrainage:
        found = selectors.parrainage_for(self.request.user, self.kwargs["pk"])
        if found is None:
            raise Http404(_("Aucun parrainage ne correspond à cette adresse."))
        return found

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        found = context.setdefault("parrainage", self.get_object())
        context.update({
            "steps": selectors.checklist(found),
            "can_tick": access.can_tick_onboarding(self.request.user, found)
            and found.status == Parrainage.Status.ACTIVE,
            "can_manage": access.can_manage_parrainages(self.request.user),
            "next_url": self.request.get_full_path(),
        })
        return context

    def next_url(self, found: Parrainage) -> str:
        candidate = self.request.POST.get("next", "")
        if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={self.request.get_host()},
                                                         require_https=self.request.is_secure()):
            return candidate
        return reverse("parrainage:tick", kwargs={"pk": found.pk})

    def post(self, request, *args, **kwargs):
        found = self.get_object()
        if not access.can_tick_onboarding(request.user, found):
            raise PermissionDenied(_("Seules les directions et présidences des deux associations, la commission "
                                     "d'adhésion et l'équipe fédérale cochent les étapes d'accueil."))
        form = StepForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(parrainage=found, step_form=form), status=400)
        step = form.cleaned_data["step"]
        label = OnboardingStep.Step(step).label
        try:
            if form.cleaned_data["action"] == StepForm.TICK:
                services.tick(request.user, found, step, form.cleaned_data["done_on"])
                messages.success(request, _("Étape cochée : %(step)s.") % {"step": label})
            else:
                services.untick(request.user, found, step)
                messages.success(request, _("Étape décochée : %(step)s.") % {"step": label})
        except services.ParrainageError as error:
            form.add_error(None, str(error))
            return self.render_to_response(
                self.get_context_data(parrainage=self.get_object(), step_form=form), status=400
            )
        return HttpResponseRedirect(self.next_url(found))


class ParrainageOverviewView(ParrainageManagerRequiredMixin, TemplateView):
    """Every parrainage with its progress, those without contact for 30 days, the associations awaiting
    a parrain. Filters in the query string; malformed ones answer 400 with the page and a message."""

    template_name = "directory/parrainage/overview.html"

    def get(self, request, *args, **kwargs):
        form = OverviewFilterForm(request.GET)
        awaiting = list(selectors.awaiting_parrain())
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(
                form=form, awaiting=awaiting, page_obj=None, rows=[], result_count=0, invalid=True,
                error_message=_("Certains filtres ne sont pas valides. Corrigez-les ci-dessous."),
            ), status=400)
        filters = selectors.OverviewFilters(
            status=form.cleaned_data["status"], q=form.cleaned_data["q"],
            without_contact=form.cleaned_data["sans_contact"],
        )
        rows = selectors.overview(filters)
        paginator = Paginator(rows, OVERVIEW_PAGE_SIZE)
        try:
            page = paginator.page(request.GET.get("page") or 1)
        except InvalidPage:
            return self.render_to_response(self.get_context_data(
                form=form, awaiting=awaiting, page_obj=None, rows=[], result_count=0, invalid=True,
                error_message=_("Cette page de résultats n'existe pas. Revenez à la première page de la liste."),
            ), status=400)
        return self.render_to_response(self.get_context_data(
            form=form, awaiting=awaiting, page_obj=page, rows=page.object_list, result_count=paginator.count,
            no_contact_days=selectors.no_contact_days(), step_count=selectors.STEP_COUNT,
        ))
