"""The candidate's side of a membership application: documents, draft, private link, submission.

The SIRET rule itself is the directory's (tests/directory/test_siret.py).

Every bad input answers with a French message and changes nothing; the link is the only key.
"""

import hashlib

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.outbox.models import Email
from membership import services as membership
from membership.models import ApplicationEvent, MembershipApplication
from tests.factories import juridiction
from tests.membership.support import (
    VALID_SIRET,
    complete_fields,
    complete_post,
    docx,
    draft,
    odt,
    pdf,
    reload,
    submitted,
    text,
    token_from,
)

START_URL = reverse("membership-application")
Status = MembershipApplication.Status
Kind = ApplicationEvent.Kind


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def follow(token: str) -> str:
    return reverse("membership-follow", kwargs={"token": token})


def stored_files(settings) -> list[str]:
    folder = settings.MEDIA_ROOT / "private" / "adhesion"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- Documents ------------------------------------------------------------------------------------


@pytest.mark.parametrize("upload", [pdf(), odt(), docx()], ids=["pdf", "odt", "docx"])
def test_pdf_odt_and_docx_documents_are_accepted(upload):
    assert membership.document_error(upload) is None


def test_a_document_of_another_type_is_refused():
    upload = SimpleUploadedFile("statuts.exe", b"MZ\x90\x00")
    assert "PDF, ODT ou DOCX" in membership.document_error(upload)


def test_a_file_named_pdf_that_is_not_a_pdf_is_refused():
    upload = SimpleUploadedFile("statuts.pdf", b"<html>pas un PDF</html>")
    assert "ne correspond pas" in membership.document_error(upload)


def test_a_zip_renamed_odt_without_the_opendocument_mimetype_is_refused():
    assert membership.document_error(odt(mimetype=b"application/vnd.oasis.opendocument.spreadsheet")) is not None
    assert membership.document_error(docx(name="statuts.odt")) is not None


def test_a_zip_renamed_docx_without_a_word_document_is_refused():
    assert membership.document_error(docx(content_types=b"<Types/>")) is not None
    assert membership.document_error(SimpleUploadedFile("rapport.docx", b"PK\x03\x04 tronque")) is not None


def test_an_empty_document_is_refused():
    assert "vide" in membership.document_error(SimpleUploadedFile("statuts.pdf", b""))


def test_documents_are_limited_to_ten_megabytes_by_default(settings):
    assert settings.MEMBERSHIP_UPLOAD_MAX_BYTES == 10 * 1024 * 1024


def test_a_document_over_the_size_limit_is_refused(settings):
    settings.MEMBERSHIP_UPLOAD_MAX_BYTES = 1024
    assert "Mo" in membership.document_error(pdf(body=b"x" * 2000))
    assert membership.document_error(pdf(body=b"x" * 500)) is None


# --- Start page and draft ---------------------------------------------------------------------------


def test_the_start_page_is_public_and_shows_the_form(client, db):
    response = client.get(START_URL)
    assert response.status_code == 200
    content = text(response)
    assert "Adhérer à la fédération" in content
    assert 'enctype="multipart/form-data"' in content
    assert "Déposer la candidature" in content


@pytest.mark.django_db
def test_saving_the_first_form_creates_a_draft_and_e_mails_its_private_link(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(START_URL, {"name": "Association Candidate", "contact_email": "suivi@exemple.org",
                                           "action": "save"})
    assert response.status_code == 302
    token = token_from(response["Location"])
    application = MembershipApplication.objects.get()
    assert application.status == Status.DRAFT
    assert application.name == "Association Candidate"
    # Only the hash of the link is kept.
    assert application.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 40
    assert not MembershipApplication.objects.filter(token_hash=token).exists()
    assert [m.to for m in mail.outbox] == [["suivi@exemple.org"]]
    assert follow(token) in mail.outbox[0].body
    assert list(application.events.values_list("kind", "actor")) == [(Kind.CREATED, None)]
    # The e-mail left through the outbox, which keeps its envelope but not the private link.
    email = Email.objects.get(kind="membership.link")
    assert email.status == Email.Status.SENT and email.to_address == "suivi@exemple.org"
    assert not Email.objects.filter(text_body__contains=token).exists()


@pytest.mark.django_db
def test_each_draft_gets_a_different_link(client):
    first = token_from(client.post(START_URL, {"name": "A", "contact_email": "a@exemple.org"})["Location"])
    second = token_from(client.post(START_URL, {"name": "B", "contact_email": "b@exemple.org"})["Location"])
    assert first != second


@pytest.mark.django_db
def test_posting_the_same_start_form_twice_creates_one_application(client, django_capture_on_commit_callbacks):
    form_key = client.get(START_URL).context["form"]["form_key"].value()
    assert len(form_key) >= 16
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(START_URL, complete_post(form_key=form_key, action="submit"))
    second = client.post(START_URL, complete_post(form_key=form_key, action="submit"), follow=True)
    assert MembershipApplication.objects.count() == 1
    assert second.redirect_chain[0][0] == first["Location"]
    assert "rien n'a été créé en double" in text(second)
    application = MembershipApplication.objects.get()
    assert application.events.filter(kind=Kind.SUBMITTED).count() == 1
    assert len(mail.outbox) == 2  # the link and the receipt, once


@pytest.mark.django_db
def test_an_invalid_post_does_not_use_up_the_form_key(client):
    form_key = client.get(START_URL).context["form"]["form_key"].value()
    assert client.post(START_URL, complete_post(form_key=form_key, siret="1")).status_code == 400
    assert client.post(START_URL, complete_post(form_key=form_key)).status_code == 302
    assert MembershipApplication.objects.count() == 1


def test_a_start_still_being_recorded_is_refused_rather_than_duplicated(db):
    form_key = "k" * 22
    membership.cache.add(membership._start_key(form_key), "", timeout=60)
    with pytest.raises(membership.StateConflict, match="en cours d'enregistrement"):
        membership.start_application_once({"name": "A", "contact_email": "a@exemple.org"}, form_key=form_key)
    assert not MembershipApplication.objects.exists()


@pytest.mark.django_db
def test_a_draft_needs_a_name_and_a_follow_up_address(client):
    response = client.post(START_URL, {"name": "", "contact_email": "pas-une-adresse"})
    assert response.status_code == 400
    content = text(response)
    assert "Indiquez le nom de l'association." in content
    assert "Cette adresse électronique n'est pas valide." in content
    assert not MembershipApplication.objects.exists()


@pytest.mark.django_db
def test_an_invalid_siret_is_refused_with_a_clear_message_and_nothing_is_created(client, settings):
    response = client.post(START_URL, complete_post(siret="732 829 320 00075"))
    assert response.status_code == 400
    content = text(response)
    assert "Ce numéro SIRET n'est pas valide" in content
    assert "sélectionnez-les à nouveau" in content  # the chosen files were not kept
    assert "Association Arcachonnaise de Médiation" in content  # typed values are kept in the form
    assert not MembershipApplication.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db
@pytest.mark.parametrize("upload, message", [
    (SimpleUploadedFile("statuts.jpg", b"\xff\xd8\xff\xe0"), "PDF, ODT ou DOCX"),
    (SimpleUploadedFile("statuts.pdf", b"GIF89a"), "ne correspond pas"),
])
def test_a_wrong_type_upload_is_refused_and_nothing_is_written(client, settings, upload, message):
    response = client.post(START_URL, complete_post(statutes=upload))
    assert response.status_code == 400
    assert message in text(response)
    assert not MembershipApplication.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_an_oversized_upload_is_refused(client, settings):
    settings.MEMBERSHIP_UPLOAD_MAX_BYTES = 2048
    response = client.post(START_URL, complete_post(activity_report=pdf("rapport.pdf", body=b"x" * 5000)))
    assert response.status_code == 400
    assert "pèse plus de" in text(response)
    assert not MembershipApplication.objects.exists()


@pytest.mark.django_db
def test_an_unknown_juridiction_is_refused(client):
    response = client.post(START_URL, complete_post(juridictions=["999999"]))
    assert response.status_code == 400
    assert "Un des choix n'existe pas" in text(response)


@pytest.mark.django_db
def test_a_complete_first_form_can_be_submitted_at_once(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(START_URL, complete_post(action="submit"))
    assert response.status_code == 302
    application = MembershipApplication.objects.get()
    assert application.status == Status.SUBMITTED
    assert application.submitted_at is not None
    assert application.siret == VALID_SIRET
    assert set(application.juridictions.values_list("slug", flat=True)) == {"tj-bordeaux", "tj-libourne"}
    assert application.statutes.name.endswith(".pdf") and application.activity_report.name.endswith(".odt")
    # The private link, then the receipt, both to the follow-up address.
    assert [m.to for m in mail.outbox] == [["candidature@arcachon.example.org"]] * 2
    assert "bien déposée" in mail.outbox[1].subject


@pytest.mark.django_db
def test_submitting_an_incomplete_first_form_keeps_it_as_a_draft_and_lists_what_is_missing(client):
    fields = complete_fields(motivation="", director_email="")
    response = client.post(START_URL, {**fields, "statutes": pdf(), "action": "submit"}, follow=True)
    application = MembershipApplication.objects.get()
    assert application.status == Status.DRAFT
    assert application.statutes  # the uploaded document is kept in the draft
    content = text(response)
    assert "pas encore déposée" in content
    for label in ("motivation", "courriel du directeur ou de la directrice", "dernier rapport d'activité"):
        assert label in content


# --- Private link --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_private_link_opens_the_draft_with_its_values(client):
    application, token = draft()
    response = client.get(follow(token))
    assert response.status_code == 200
    content = text(response)
    assert 'value="Association Arcachonnaise de Médiation"' in content
    assert "Votre dossier est complet" in content
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["x" * 43, "trop-court", "a" * 300, "inconnu%00"])
def test_a_forged_link_gets_a_clear_404_page(client, token):
    draft()
    response = client.get(f"/adhesion/suivi/{token}/")
    assert response.status_code == 404
    assert "Ce lien de candidature n'est pas ou plus valable" in text(response)


@pytest.mark.django_db
def test_a_forged_link_cannot_post_or_download(client):
    application, _token = draft()
    forged = "y" * 43
    assert client.post(follow(forged), complete_post(action="save")).status_code == 404
    url = reverse("membership-document", kwargs={"token": forged, "kind": "statuts"})
    assert client.get(url).status_code == 404
    assert reload(application).events.count() == 1


@pytest.mark.django_db
def test_saving_the_draft_again_changes_it_and_logs_the_step(client):
    application, token = draft()
    response = client.post(follow(token), {**complete_fields(city="La Teste-de-Buch"), "action": "save"})
    assert response.status_code == 302
    application = reload(application)
    assert application.city == "La Teste-de-Buch"
    assert application.statutes  # no new file chosen: the document stays
    assert list(application.events.values_list("kind", flat=True)) == [Kind.CREATED, Kind.SAVED]


@pytest.mark.django_db
def test_a_new_upload_replaces_the_previous_document(client, settings, django_capture_on_commit_callbacks):
    application, token = draft()
    old_name = application.statutes.name
    with django_capture_on_commit_callbacks(execute=True):
        client.post(follow(token), {**complete_fields(), "statutes": docx("statuts-2024.docx"), "action": "save"})
    application = reload(application)
    assert application.statutes.name != old_name
    assert application.statutes.name.endswith(".docx")
    assert not application.statutes.storage.exists(old_name)
    assert len([name for name in stored_files(settings) if name.startswith("statuts")]) == 1


@pytest.mark.django_db
def test_an_invalid_save_of_the_draft_changes_nothing(client):
    application, token = draft()
    response = client.post(follow(token), {**complete_fields(city="Ailleurs", siret="123"), "action": "save"})
    assert response.status_code == 400
    assert "Rien n'a été enregistré" in text(response)
    application = reload(application)
    assert application.city == "Arcachon"
    assert application.events.count() == 1


@pytest.mark.django_db
def test_submitting_an_incomplete_draft_saves_the_changes_and_marks_the_missing_fields(client):
    application, token = draft(activity_report=None, motivation="")
    response = client.post(follow(token), {**complete_fields(city="Gujan-Mestras", motivation=""), "action": "submit"})
    assert response.status_code == 400
    content = text(response)
    assert "Vos modifications sont enregistrées" in content
    assert "Joignez ce document pour déposer la candidature." in content
    assert "Ce champ est obligatoire pour déposer la candidature." in content
    application = reload(application)
    assert application.status == Status.DRAFT
    assert application.city == "Gujan-Mestras"
    assert not application.events.filter(kind=Kind.SUBMITTED).exists()


@pytest.mark.django_db
def test_submitting_a_complete_draft_e_mails_a_receipt_with_the_link(client, django_capture_on_commit_callbacks):
    application, token = draft()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(follow(token), {**complete_fields(), "action": "submit"})
    assert response.status_code == 302
    application = reload(application)
    assert application.status == Status.SUBMITTED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["candidature@arcachon.example.org"]
    assert follow(token) in mail.outbox[0].body


@pytest.mark.django_db
def test_a_double_submission_is_refused_and_nothing_is_duplicated(client, django_capture_on_commit_callbacks):
    application, token = draft()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(follow(token), {**complete_fields(), "action": "submit"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(follow(token), {**complete_fields(city="Autre"), "action": "submit"})
    assert response.status_code == 409
    assert "déjà été déposée" in text(response)
    application = reload(application)
    assert application.city == "Arcachon"
    assert application.events.filter(kind=Kind.SUBMITTED).count() == 1
    assert mail.outbox == []


def test_the_submit_service_refuses_a_second_submission(db):
    application, token = submitted()
    with pytest.raises(membership.StateConflict, match="déjà été déposée"):
        membership.submit_application(application, token=token)
    assert application.events.filter(kind=Kind.SUBMITTED).count() == 1


def test_the_save_service_refuses_to_change_a_submitted_application(db):
    application, _token = submitted()
    with pytest.raises(membership.StateConflict):
        membership.save_draft(application, {"name": "Autre nom", "contact_email": "x@exemple.org"})
    assert reload(application).name == "Association Arcachonnaise de Médiation"


def test_the_submit_service_refuses_an_incomplete_draft(db):
    application, token = draft(statutes=None, juridictions=[])
    with pytest.raises(membership.IncompleteApplication) as refused:
        membership.submit_application(application, token=token)
    assert {name for name, _label in refused.value.missing} == {"statutes", "juridictions"}
    assert reload(application).status == Status.DRAFT


@pytest.mark.django_db
def test_after_submission_the_page_is_read_only(client):
    application, token = submitted()
    response = client.get(follow(token))
    content = text(response)
    assert response.status_code == 200
    assert "Déposée le" in content
    assert 'name="action"' not in content
    assert "Télécharger les statuts" in content


@pytest.mark.django_db
def test_the_candidate_downloads_their_documents_through_the_link(client):
    application, token = submitted()
    response = client.get(reverse("membership-document", kwargs={"token": token, "kind": "statuts"}))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert "attachment" in response["Content-Disposition"]
    assert "statuts-association-arcachonnaise-de-mediation.pdf" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert client.get(reverse("membership-document", kwargs={"token": token, "kind": "autre"})).status_code == 404


@pytest.mark.django_db
def test_uploaded_documents_are_not_served_as_plain_media(client):
    application, _token = submitted()
    assert application.statutes.name.startswith("private/adhesion/")
    assert client.get(f"/media/{application.statutes.name}").status_code in (302, 404)


# --- Information requests, candidate side ------------------------------------------------------------


@pytest.fixture
def questioned(db, staff, django_capture_on_commit_callbacks):
    """A submitted application the commission asked a question about; returns it with the new token."""
    application, _old = submitted()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = membership.request_information(application, staff, "Pouvez-vous joindre votre budget ?")
    token = token_from(mail.outbox[-1].body)
    return reload(application), request, token


def test_the_question_is_e_mailed_with_a_new_link_and_the_old_one_stops_working(client, db, staff,
                                                                                 django_capture_on_commit_callbacks):
    application, old_token = submitted()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        membership.request_information(application, staff, "Quel est votre budget ?")
    assert len(mail.outbox) == 1
    assert "Quel est votre budget ?" in mail.outbox[0].body
    new_token = token_from(mail.outbox[0].body)
    assert new_token != old_token
    assert client.get(follow(old_token)).status_code == 404
    assert client.get(follow(new_token)).status_code == 200


def test_the_candidate_answers_a_question_with_a_document(client, questioned):
    application, request, token = questioned
    assert application.status == Status.INFO_REQUESTED
    url = reverse("membership-answer", kwargs={"token": token, "request_id": request.pk})
    response = client.post(url, {f"q{request.pk}-answer": "Voici notre budget.",
                                 f"q{request.pk}-answer_file": pdf("budget.pdf")})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.answer == "Voici notre budget."
    assert request.answered_at is not None
    assert request.answer_file.name.endswith(".pdf")
    application = reload(application)
    assert application.status == Status.EXAMINING
    event = application.events.get(kind=Kind.INFO_ANSWERED)
    assert event.actor is None and event.message == "Voici notre budget."
    file_url = reverse("membership-answer-file", kwargs={"token": token, "request_id": request.pk})
    assert client.get(file_url).status_code == 200


def test_an_empty_answer_is_refused(client, questioned):
    application, request, token = questioned
    url = reverse("membership-answer", kwargs={"token": token, "request_id": request.pk})
    response = client.post(url, {f"q{request.pk}-answer": "  "})
    assert response.status_code == 400
    assert "Écrivez votre réponse" in text(response)
    request.refresh_from_db()
    assert request.answered_at is None


def test_answering_twice_is_refused_and_the_first_answer_stays(client, questioned):
    application, request, token = questioned
    url = reverse("membership-answer", kwargs={"token": token, "request_id": request.pk})
    client.post(url, {f"q{request.pk}-answer": "Première réponse."})
    response = client.post(url, {f"q{request.pk}-answer": "Seconde réponse."})
    assert response.status_code == 409
    assert "déjà répondu" in text(response)
    request.refresh_from_db()
    assert request.answer == "Première réponse."
    assert application.events.filter(kind=Kind.INFO_ANSWERED).count() == 1


def test_a_question_of_another_application_cannot_be_answered(client, questioned):
    _application, request, _token = questioned
    _other, other_token = submitted(name="Autre candidate")
    url = reverse("membership-answer", kwargs={"token": other_token, "request_id": request.pk})
    assert client.post(url, {f"q{request.pk}-answer": "Intrusion."}).status_code == 404
    request.refresh_from_db()
    assert request.answered_at is None


def test_the_candidate_never_sees_the_commission_discussion(client, questioned, staff):
    application, _request, token = questioned
    membership.add_comment(application, staff, "Avis interne : budget fragile.", "reserve")
    content = text(client.get(follow(token)))
    assert "Pouvez-vous joindre votre budget ?" in content
    assert "budget fragile" not in content
    assert "Avis réservé" not in content
    assert staff.get_full_name() not in content


def test_the_answer_form_refuses_a_wrong_type_of_document(client, questioned):
    application, request, token = questioned
    url = reverse("membership-answer", kwargs={"token": token, "request_id": request.pk})
    response = client.post(url, {f"q{request.pk}-answer": "Budget", f"q{request.pk}-answer_file":
                                 SimpleUploadedFile("budget.xlsx", b"PK\x03\x04")})
    assert response.status_code == 400
    assert "PDF, ODT ou DOCX" in text(response)
    request.refresh_from_db()
    assert request.answered_at is None


def test_a_juridiction_list_is_saved_as_chosen(db):
    application, _token = draft(juridictions=[juridiction("tj-pau")])
    assert list(application.juridictions.values_list("slug", flat=True)) == ["tj-pau"]


def test_the_services_queue_no_e_mail_while_muted_but_still_log_every_step(db, staff,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), membership.emails_muted():
        application, token = draft()
        membership.submit_application(application, token=token)
        membership.request_information(application, staff, "Pouvez-vous joindre votre budget ?")
    assert mail.outbox == []
    assert list(reload(application).events.values_list("kind", flat=True)) == [
        Kind.CREATED, Kind.SUBMITTED, Kind.INFO_REQUESTED]
