"""Membership application pages: the candidate's (public, private link) and the commission's.

Views stay thin: forms validate input, membership.services reads and changes state. Refusals of
the rules answer with the page and a French message: 400 for invalid input, 404 for a stale or
forged link, 409 when the application is no longer in a state that allows the step.
"""

from __future__ import annotations

import contextlib
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import InvalidPage, Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views import View

from core import ratelimit
from directory import access
from membership import services
from membership.forms import (
    AnswerForm,
    ApplicationForm,
    CommentForm,
    CommissionFilterForm,
    DecisionForm,
    InformationRequestForm,
)
from membership.models import InformationRequest, MembershipApplication

Status = MembershipApplication.Status

# Documents of an application, by the slug of their URL.
DOCUMENTS = {"statuts": ("statutes", "statuts"), "rapport": ("activity_report", "rapport-activite")}


def _private(response):
    """Pages and files behind a private link: never cached, never sent as a referrer to other sites."""
    add_never_cache_headers(response)
    # "same-origin": the link never leaves for another site, and form posts keep their Origin (CSRF).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _serve(application: MembershipApplication, field_file, prefix: str):
    if not field_file:
        raise Http404(_("Ce document n'a pas été joint à la candidature."))
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("Ce document est introuvable.")) from exc
    response = FileResponse(
        handle, as_attachment=True, filename=services.download_name(application, prefix, field_file.name),
        content_type=services.content_type_for(field_file.name),
    )
    return _private(response)


def _document(application: MembershipApplication, kind: str):
    if kind not in DOCUMENTS:
        raise Http404(_("Ce document n'existe pas."))
    field, prefix = DOCUMENTS[kind]
    return _serve(application, getattr(application, field), prefix)


def _answer_file(application: MembershipApplication, request_id: int):
    request = InformationRequest.objects.filter(pk=request_id, application=application).first()
    if request is None:
        raise Http404(_("Ce document n'existe pas."))
    return _serve(application, request.answer_file, f"reponse-{request.pk}")


# --- Candidate --------------------------------------------------------------------------------------


# The secret, kept in the browser's session, that proves which client first sent a start form's key
# (membership.services.start_application_once). Put there only when a draft is recorded: showing the
# form opens no session.
FORM_OWNER_SESSION_KEY = "membership_form_owner"


def _form_owner(request, *, create: bool) -> str:
    owner = request.session.get(FORM_OWNER_SESSION_KEY, "")
    if not owner and create:
        owner = request.session[FORM_OWNER_SESSION_KEY] = secrets.token_urlsafe(32)
    return owner


class MembershipStartView(View):
    """`/adhesion/`: the procedure and the application form; saving creates the draft and its link.

    Never stored by a cache (the form carries its one-time key, and what was typed comes back in it)."""

    template_name = "membership/start.html"

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    def get(self, request):
        return render(request, self.template_name, {"form": ApplicationForm()})

    def post(self, request):
        form = ApplicationForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form, "files_dropped": bool(request.FILES)},
                          status=400)
        form_key = form.cleaned_data.get("form_key", "")
        # New drafts per client address (each one sends an e-mail); the same form sent again is no new draft.
        rate = ratelimit.Rate.configured("membership-draft", "MEMBERSHIP_DRAFT")
        address = ratelimit.client_address(request)
        verdict = ratelimit.check(rate, address)
        if not verdict.allowed:
            with contextlib.suppress(services.FormKeyOfAnotherClient):
                token = services.started_token(form_key, _form_owner(request, create=False))
                if token:
                    return self._already_recorded(request, token)
            error = _("Trop de candidatures ont été commencées depuis votre connexion : celle-ci n'a pas été "
                      "enregistrée. %(wait)s") % {"wait": ratelimit.wait_message(verdict)}
            if request.FILES:
                error += " " + _("Les fichiers choisis n'ont pas été conservés : sélectionnez-les à nouveau.")
            return ratelimit.refusal(render(request, self.template_name, {"form": form, "error": error}), verdict)
        try:
            application, token, created = services.start_application_once(
                form.service_data(), form_key=form_key, owner=_form_owner(request, create=True))
        except services.FormKeyOfAnotherClient as exc:
            return self._foreign_form_key(request, form, exc)
        except services.MembershipError as exc:
            return render(request, self.template_name, {"form": form, "error": str(exc)}, status=409)
        if not created:
            return self._already_recorded(request, token)
        ratelimit.record(rate, address)
        if request.POST.get("action") == "submit":
            try:
                services.submit_application(application, token=token)
            except services.IncompleteApplication as exc:
                messages.warning(request, _(
                    "Votre brouillon est enregistré, mais la candidature n'est pas encore déposée : %(error)s"
                ) % {"error": exc})
            else:
                messages.success(request, _("Votre candidature est déposée. Un accusé de réception vous a été envoyé "
                                            "par courriel."))
        else:
            messages.success(request, _("Votre brouillon est enregistré. Conservez bien le lien privé de cette page : "
                                        "il vous a aussi été envoyé par courriel."))
        return HttpResponseRedirect(services.follow_path(token))

    def _foreign_form_key(self, request, form, exc):
        """Another client's key: nothing of its draft is shown; the form comes back with what this client
        typed and a key of its own, so that sending it again records a draft of its own."""
        data = request.POST.copy()
        data["form_key"] = ApplicationForm().initial["form_key"]
        error = str(exc)
        if request.FILES:
            error += " " + _("Les fichiers choisis n'ont pas été conservés : sélectionnez-les à nouveau.")
        return render(request, self.template_name, {"form": ApplicationForm(data), "error": error}, status=409)

    @staticmethod
    def _already_recorded(request, token: str):
        messages.info(request, _("Cette candidature était déjà enregistrée : rien n'a été créé en double."))
        return HttpResponseRedirect(services.follow_path(token))


class CandidateMixin:
    """Resolve the private link; a stale or forged one gets a clear 404 page."""

    def dispatch(self, request, *args, **kwargs):
        self.token = kwargs["token"]
        self.application = services.application_for_token(self.token)
        if self.application is None:
            return _private(render(request, "membership/invalid_link.html", status=404))
        return _private(super().dispatch(request, *args, **kwargs))

    def follow_context(self, *, form=None, answer_forms=None, error=None, missing=None):
        application = self.application
        is_draft = application.status == Status.DRAFT
        if is_draft and form is None:
            form = ApplicationForm(instance=application)
        if missing is None and is_draft:
            missing = services.missing_items(application)
        answer_forms = answer_forms or {}
        requests = [
            {"request": r, "form": answer_forms.get(r.pk) or AnswerForm(prefix=f"q{r.pk}"),
             "answer_url": reverse("membership-answer", kwargs={"token": self.token, "request_id": r.pk}),
             "file_url": reverse("membership-answer-file", kwargs={"token": self.token, "request_id": r.pk})
             if r.answer_file else ""}
            for r in services.requests_of(application)
        ]
        return {
            "application": application,
            "token": self.token,
            # The address the candidate is using, shown to them alone on a page no cache keeps (the e-mails
            # use SITE_URL, core/links.py).
            "follow_url": self.request.build_absolute_uri(services.follow_path(self.token)),
            "form": form,
            "is_draft": is_draft,
            "missing": missing or [],
            "requests": requests,
            "can_answer": application.status not in MembershipApplication.DECIDED,
            "events": services.events_for_candidate(application),
            "candidate_kinds": services.CANDIDATE_ACTED_KINDS,
            "document_urls": self.document_urls(),
            "error": error,
        }

    def document_urls(self) -> dict[str, str]:
        return {
            field: reverse("membership-document", kwargs={"token": self.token, "kind": kind})
            for kind, (field, _prefix) in DOCUMENTS.items() if getattr(self.application, field)
        }

    def render_follow(self, request, status=200, **kwargs):
        return render(request, "membership/follow.html", self.follow_context(**kwargs), status=status)


class MembershipFollowView(CandidateMixin, View):
    """`/adhesion/suivi/<token>/`: edit and submit the draft, then follow the application."""

    def get(self, request, token):
        return self.render_follow(request)

    def post(self, request, token):
        application = self.application
        if application.status != Status.DRAFT:
            return self.render_follow(request, status=409, error=_(
                "Cette candidature a déjà été déposée le %(date)s : ce nouvel envoi n'a rien modifié."
            ) % {"date": services.display_datetime(application.submitted_at)})
        form = ApplicationForm(request.POST, request.FILES, instance=application)
        if not form.is_valid():
            # The unsaved values stay in the form; the application itself is reloaded untouched.
            self.application = services.application_for_token(token)
            error = _("Rien n'a été enregistré : corrigez les champs signalés ci-dessous.")
            if request.FILES:
                error += " " + _("Les fichiers choisis n'ont pas été conservés : sélectionnez-les à nouveau.")
            return self.render_follow(request, status=400, form=form, error=error)
        try:
            self.application = services.save_draft(application, form.service_data())
        except services.MembershipError as exc:
            self.application = services.application_for_token(token)
            status = 409 if isinstance(exc, services.StateConflict) else 400
            return self.render_follow(request, status=status, form=form, error=str(exc))
        if request.POST.get("action") == "submit":
            try:
                services.submit_application(self.application, token=token)
            except services.IncompleteApplication as exc:
                form.mark_missing(exc.missing)
                return self.render_follow(request, status=400, form=form, missing=exc.missing, error=_(
                    "Vos modifications sont enregistrées, mais la candidature n'est pas encore déposée : %(error)s"
                ) % {"error": exc})
            except services.StateConflict as exc:
                self.application = services.application_for_token(token)
                return self.render_follow(request, status=409, error=str(exc))
            messages.success(request, _("Votre candidature est déposée. Un accusé de réception vous a été envoyé par "
                                        "courriel."))
        else:
            messages.success(request, _("Votre brouillon est enregistré."))
        return HttpResponseRedirect(services.follow_path(token))


class MembershipAnswerView(CandidateMixin, View):
    """The candidate answers one of the commission's questions."""

    def post(self, request, token, request_id):
        if not self.application.requests.filter(pk=request_id).exists():
            raise Http404(_("Cette question n'existe pas."))
        form = AnswerForm(request.POST, request.FILES, prefix=f"q{request_id}")
        if not form.is_valid():
            return self.render_follow(request, status=400, answer_forms={request_id: form},
                                      error=_("La réponse n'a pas été envoyée : corrigez les champs signalés."))
        try:
            services.answer_information_request(
                self.application, request_id, answer=form.cleaned_data["answer"],
                answer_file=form.cleaned_data.get("answer_file"),
            )
        except services.StateConflict as exc:
            return self.render_follow(request, status=409, error=str(exc))
        except services.MembershipError as exc:
            return self.render_follow(request, status=400, answer_forms={request_id: form}, error=str(exc))
        messages.success(request, _("Votre réponse est envoyée à la commission d'adhésion."))
        return HttpResponseRedirect(services.follow_path(token))


class CandidateDocumentView(CandidateMixin, View):
    def get(self, request, token, kind):
        return _document(self.application, kind)


class CandidateAnswerFileView(CandidateMixin, View):
    def get(self, request, token, request_id):
        return _answer_file(self.application, request_id)


# --- Commission --------------------------------------------------------------------------------------


class ExaminerRequiredMixin(AccessMixin):
    """The membership commission and federal staff: anonymous visitors log in, others get a 403."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not access.can_examine_applications(request.user):
            raise PermissionDenied(_("Seuls la commission d'adhésion et l'équipe fédérale examinent les candidatures."))
        return super().dispatch(request, *args, **kwargs)


class CommissionListView(ExaminerRequiredMixin, View):
    """`/parrainage/commission/`: the submitted applications by state, with counts and pages."""

    template_name = "membership/commission_list.html"

    def get(self, request):
        form = CommissionFilterForm(request.GET)
        counts = services.commission_counts()
        if not form.is_valid():
            return self.invalid(request, form, counts, form.errors["statut"][0])
        paginator = Paginator(services.applications_for_commission(form.states()), settings.MEMBERSHIP_PAGE_SIZE)
        try:
            page = paginator.page(request.GET.get("page") or 1)
        except InvalidPage:
            return self.invalid(request, form, counts,
                                _("Cette page de la liste n'existe pas. Revenez à la première page."))
        return render(request, self.template_name, {
            "tabs": self.tabs(form, counts), "current_tab": form.tab(), "page_obj": page,
            "applications": page.object_list, "result_count": paginator.count,
        })

    def tabs(self, form, counts):
        current = form.tab() if form.is_bound and hasattr(form, "cleaned_data") else None
        return [{"key": key, "label": label, "count": counts[key], "current": key == current}
                for key, label, _states in form.tabs]

    def invalid(self, request, form, counts, message):
        return render(request, self.template_name, {
            "tabs": self.tabs(form, counts), "applications": [], "error_message": message, "invalid": True,
        }, status=400)


class CommissionDetailMixin(ExaminerRequiredMixin):
    template_name = "membership/commission_detail.html"

    def get_application(self, pk) -> MembershipApplication:
        application = services.commission_application(pk)
        if application is None:
            raise Http404(_("Aucune candidature déposée ne correspond à cette adresse."))
        return application

    def render_detail(self, request, application, *, status=200, error=None, **forms):
        requests = [
            {"request": r, "file_url": reverse("parrainage:commission-answer-file",
                                               kwargs={"pk": application.pk, "request_id": r.pk})
             if r.answer_file else ""}
            for r in services.requests_of(application)
        ]
        is_open = application.status in services.OPEN_STATES
        context = {
            "application": application,
            "events": services.events_for_commission(application),
            "candidate_kinds": services.CANDIDATE_ACTED_KINDS,
            "requests": requests,
            "comment_form": forms.get("comment_form") or CommentForm(),
            "request_form": forms.get("request_form") or InformationRequestForm(),
            "decision_form": forms.get("decision_form") or DecisionForm(),
            "can_start_examination": application.status in (Status.SUBMITTED, Status.POSTPONED),
            "can_request": is_open,
            "can_decide": is_open,
            "pending_accounts": services.pending_accounts(application)
            if application.status == Status.ADMITTED else [],
            "parrainage_url": self.parrainage_url(application),
            "document_urls": {
                field: reverse("parrainage:commission-document", kwargs={"pk": application.pk, "kind": kind})
                for kind, (field, _prefix) in DOCUMENTS.items() if getattr(application, field)
            },
            "error": error,
        }
        response = render(request, self.template_name, context, status=status)
        add_never_cache_headers(response)
        return response

    @staticmethod
    def parrainage_url(application) -> str:
        """The parrain matching page, once admitted, if the parrainage module provides it."""
        if application.association is None:
            return ""
        try:
            return reverse("parrainage:match", kwargs={"slug": application.association.slug})
        except NoReverseMatch:
            return ""


class CommissionApplicationView(CommissionDetailMixin, View):
    """`/parrainage/commission/<id>/`: the file, its documents, the log and the commission's forms."""

    def get(self, request, pk):
        return self.render_detail(request, self.get_application(pk))


class CommissionActionView(CommissionDetailMixin, View):
    """POST only: validate the form, call the service, come back to the application's page."""

    form_class = None
    form_name = ""
    success_message = ""

    def act(self, application, form):
        raise NotImplementedError

    def post(self, request, pk):
        application = self.get_application(pk)
        form = self.form_class(request.POST) if self.form_class else None
        if form is not None and not form.is_valid():
            return self.render_detail(request, application, status=400, error=_(
                "Rien n'a été enregistré : corrigez le formulaire signalé."), **{self.form_name: form})
        try:
            self.act(application, form)
        except services.StateConflict as exc:
            return self.render_detail(request, self.get_application(pk), status=409, error=str(exc))
        except services.MembershipError as exc:
            return self.render_detail(request, application, status=400, error=str(exc),
                                      **({self.form_name: form} if form is not None else {}))
        messages.success(request, self.success_message)
        return HttpResponseRedirect(reverse("parrainage:commission-application", kwargs={"pk": pk}))


class CommissionExamineView(CommissionActionView):
    success_message = _("L'examen de la candidature est commencé.")

    def act(self, application, form):
        services.start_examination(application, self.request.user)


class CommissionCommentView(CommissionActionView):
    form_class = CommentForm
    form_name = "comment_form"
    success_message = _("Votre message est ajouté à la discussion de la commission.")

    def act(self, application, form):
        services.add_comment(application, self.request.user, form.cleaned_data["message"],
                               form.cleaned_data["opinion"])


class CommissionRequestView(CommissionActionView):
    form_class = InformationRequestForm
    form_name = "request_form"
    success_message = _("La question est envoyée à l'association par courriel.")

    def act(self, application, form):
        services.request_information(application, self.request.user, form.cleaned_data["question"])


class CommissionDecisionView(CommissionActionView):
    form_class = DecisionForm
    form_name = "decision_form"

    def act(self, application, form):
        decision = services.decide(application, self.request.user, form.cleaned_data["outcome"],
                                     form.cleaned_data["reason"])
        if decision.association is not None:
            self.success_message = _(
                "Candidature admise : l'association est créée dans l'annuaire et %(count)d invitations sont envoyées."
            ) % {"count": len(decision.accounts)}
        else:
            self.success_message = _("La décision est enregistrée et communiquée à l'association.")


class CommissionInvitationsView(CommissionActionView):
    success_message = _("Les invitations sont renvoyées.")

    def act(self, application, form):
        services.resend_invitations(application, self.request.user)


class CommissionDocumentView(CommissionDetailMixin, View):
    def get(self, request, pk, kind):
        return _document(self.get_application(pk), kind)


class CommissionAnswerFileView(CommissionDetailMixin, View):
    def get(self, request, pk, request_id):
        return _answer_file(self.get_application(pk), request_id)
