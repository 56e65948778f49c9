"""An association applies, the membership commission asks a question, the association answers
through its private link, the commission admits it: the member association and its leaders'
accounts exist and the invitations are e-mailed.

The live server sends e-mail with Django's console backend: messages land in daphne's log
(tests/artifacts/daphne.log), which is where the candidate "reads" them.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from directory.models import Association, Juridiction, Region, User
from membership.models import MembershipApplication
from tests.browser.conftest import ARTIFACTS_DIR
from tests.browser.steps import log_in
from tests.factories import AssociationFactory, Role, RoleSpec, make_person
from tests.membership.support import docx, pdf

pytestmark = pytest.mark.browser

CONTACT = "candidature@landes-mediation.example.org"
DIRECTOR = "sophie.labat@landes-mediation.example.org"
PRESIDENT = "jean.darrigade@landes-mediation.example.org"
MAIL_SEPARATOR = "-" * 79
FOLLOW_LINK = re.compile(r"https?://\S+(/adhesion/suivi/[A-Za-z0-9_-]+/)")


def e_mails_to(address: str) -> list[str]:
    log = (ARTIFACTS_DIR / "daphne.log").read_text(errors="replace")
    return [chunk for chunk in log.split(MAIL_SEPARATOR) if re.search(rf"^To: .*{re.escape(address)}", chunk, re.M)]


def wait_for_e_mail(address: str, containing: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [chunk for chunk in e_mails_to(address) if containing in chunk]
        if found:
            return found[-1]
        time.sleep(0.1)
    pytest.fail(f"Aucun courriel à {address} contenant « {containing} » dans daphne.log")


def upload(field):
    return {"name": field.name, "mimeType": field.content_type or "application/octet-stream", "buffer": field.read()}


@pytest.fixture
def commission(live_url):
    home = AssociationFactory(name="ACJS 33 – Contrôle Judiciaire de la Gironde")
    make_person("commission.adhesion", association=home, roles=[RoleSpec(Role.MEMBERSHIP_COMMISSION)],
                first_name="Claire", last_name="Examinatrice")
    yield
    # The live server stored the uploads under the real MEDIA_ROOT: remove them with the test's data.
    for application in MembershipApplication.objects.prefetch_related("requests"):
        for field_file in (application.statutes, application.activity_report,
                           *(r.answer_file for r in application.requests.all())):
            if field_file:
                field_file.storage.delete(field_file.name)


def test_an_association_applies_answers_the_commission_and_is_admitted(live_url, browser, page, commission,
                                                                       screenshot):
    mont_de_marsan = Juridiction.objects.get(slug="tj-mont-de-marsan")
    dax = Juridiction.objects.get(slug="tj-dax")

    # 1. The candidate starts the form, joins the statutes and saves a draft.
    page.goto(f"{live_url}/adhesion/")
    expect(page.get_by_role("heading", level=1, name="Adhérer à la fédération")).to_be_visible()
    page.get_by_label("nom de l'association").fill("ALME 40 – Médiation et Enquêtes des Landes")
    page.get_by_label("SIRET").fill("732 829 320 00074")
    page.get_by_label("courriel de suivi de la candidature").fill(CONTACT)
    page.locator("#id_statutes").set_input_files(upload(pdf("statuts-alme40.pdf")))
    page.get_by_role("button", name="Enregistrer le brouillon").click()

    expect(page.get_by_text("Votre brouillon est enregistré")).to_be_visible()
    private_link = page.locator("#lien-prive").input_value()
    assert re.search(r"/adhesion/suivi/[A-Za-z0-9_-]{40,}/$", private_link)
    assert FOLLOW_LINK.search(wait_for_e_mail(CONTACT, "lien privé")).group(1) in private_link
    expect(page.locator(".checklist")).to_contain_text("Dernier rapport d'activité")
    screenshot(page, "adhesion-brouillon")

    # 2. Later, in another browser, the candidate comes back through the link and completes the file.
    later = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    later.set_default_timeout(5_000)
    candidate = later.new_page()
    try:
        candidate.goto(private_link)
        expect(candidate.get_by_label("nom de l'association")).to_have_value(
            "ALME 40 – Médiation et Enquêtes des Landes")
        candidate.get_by_role("textbox", name="Adresse", exact=True).fill("3 place du Tribunal")
        candidate.get_by_label("code postal").fill("40000")
        candidate.get_by_label("ville").fill("Mont-de-Marsan")
        candidate.get_by_label("département").fill("40")
        candidate.get_by_label("région").select_option(str(Region.objects.get(slug="sud-ouest").pk))
        candidate.locator("#id_juridictions").select_option([str(mont_de_marsan.pk), str(dax.pk)])
        candidate.get_by_label("Médiation pénale", exact=True).check()
        candidate.get_by_label("Enquêtes sociales rapides", exact=True).check()
        candidate.get_by_label("nombre de salarié·es").fill("8")
        candidate.get_by_label("prénom du ou de la président·e").fill("Jean")
        candidate.get_by_label(re.compile(r"^Nom du ou de la président")).fill("Darrigade")
        candidate.get_by_label("courriel du ou de la président·e").fill(PRESIDENT)
        candidate.get_by_label("prénom du directeur ou de la directrice").fill("Sophie")
        candidate.get_by_label(re.compile(r"^Nom du directeur")).fill("Labat")
        candidate.get_by_label("courriel du directeur ou de la directrice").fill(DIRECTOR)
        candidate.get_by_label("motivation").fill("Rejoindre le réseau pour nos enquêtes et la médiation pénale.")
        candidate.locator("#id_activity_report").set_input_files(upload(docx("rapport-2024.docx")))
        candidate.get_by_role("button", name="Déposer la candidature").click()

        expect(candidate.get_by_text("Votre candidature est déposée")).to_be_visible()
        expect(candidate.locator("h1 .badge")).to_have_text("Déposée")
        expect(candidate.get_by_role("button", name="Déposer la candidature")).to_have_count(0)
        wait_for_e_mail(CONTACT, "bien reçu la candidature")

        # 3. A member of the commission opens it and asks a question.
        log_in(page, live_url, "commission.adhesion")
        page.goto(f"{live_url}/parrainage/commission/")
        page.get_by_role("link", name="ALME 40 – Médiation et Enquêtes des Landes").click()
        expect(page.get_by_role("link", name="Télécharger les statuts")).to_be_visible()
        page.get_by_label("Question à l'association").fill("Pouvez-vous préciser vos financements pour 2025 ?")
        page.get_by_role("button", name="Envoyer la question").click()
        expect(page.get_by_text("La question est envoyée")).to_be_visible()

        # 4. The candidate answers from the link of the question's e-mail (the old link stops working).
        question_mail = wait_for_e_mail(CONTACT, "Pouvez-vous préciser vos financements pour 2025 ?")
        new_link = live_url + FOLLOW_LINK.search(question_mail).group(1)
        candidate.goto(private_link)
        expect(candidate.get_by_role("heading", name="Ce lien de candidature n'est pas ou plus valable")
               ).to_be_visible()
        candidate.goto(new_link)
        candidate.get_by_label("Votre réponse").fill("Conseil départemental et ministère de la Justice (SPIP).")
        candidate.get_by_role("button", name="Envoyer ma réponse").click()
        expect(candidate.get_by_text("Votre réponse est envoyée")).to_be_visible()
        screenshot(candidate, "adhesion-suivi-candidate")
    finally:
        later.close()

    # 5. The commission sees the answer, discusses it and admits the association.
    page.reload()
    expect(page.locator("#titre-questions + .question")).to_contain_text("ministère de la Justice")
    page.get_by_label("Votre avis").select_option("favorable")
    page.get_by_label("Message à la commission").fill("Financements solides, avis favorable.")
    page.get_by_role("button", name="Ajouter à la discussion").click()
    expect(page.get_by_text("Votre message est ajouté")).to_be_visible()
    page.get_by_label("Admise", exact=True).check()
    page.get_by_label("Motif de la décision").fill("Projet cohérent avec la charte du réseau.")
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.get_by_text("Candidature admise")).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("Admise")
    screenshot(page, "adhesion-commission-admise")

    association = Association.objects.get(name="ALME 40 – Médiation et Enquêtes des Landes")
    assert association.status == Association.Status.MEMBER
    assert association.admitted_on is not None
    assert set(association.juridictions.values_list("slug", flat=True)) == {"tj-mont-de-marsan", "tj-dax"}
    leaders = {person.email: person for person in User.objects.filter(association=association)}
    assert set(leaders) == {DIRECTOR, PRESIDENT}
    assert not leaders[DIRECTOR].has_usable_password()
    for address in (DIRECTOR, PRESIDENT):
        invitation = wait_for_e_mail(address, "/compte/reinitialisation/")
        assert "Pour l'activer, choisissez votre mot de passe" in invitation
    wait_for_e_mail(CONTACT, "Projet cohérent avec la charte du réseau.")
