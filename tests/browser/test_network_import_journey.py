"""Federal staff load the network from a spreadsheet in /admin/ (issue 14): the template, a file with a
refused row shown with its reason and nothing written, the corrected file imported, invitations sent."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from directory.models import Association, Invitation, User
from tests.browser.steps import log_in
from tests.directory.test_import_network import BAD_SIRET, SIRET_A, association_row, csv_bytes, person_row
from tests.factories import Role, RoleSpec, make_person

pytestmark = pytest.mark.browser


@pytest.fixture
def admin_person(live_url):
    return make_person("equipe.import", roles=[RoleSpec(Role.FEDERAL_STAFF)], is_staff=True, is_superuser=True)


def _upload(page, live_url, path) -> None:
    page.goto(f"{live_url}/admin/directory/association/")
    page.get_by_role("link", name="Importer le réseau").click()
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name=re.compile("Prévisualiser")).click()


def test_staff_preview_a_refused_file_then_import_the_corrected_one_and_invite(live_url, page, admin_person,
                                                                               tmp_path, screenshot):
    wrong = tmp_path / "reseau-erreurs.csv"
    wrong.write_bytes(csv_bytes([
        association_row(),
        association_row(siret=BAD_SIRET, name="Association au SIRET faux"),
        person_row(),
        person_row(email="sans.association@exemple.org", siret="", nom="Sans", prenom="Association"),
    ]))
    log_in(page, live_url, "equipe.import", then="/admin/")

    _upload(page, live_url, wrong)
    content = page.locator("#content")
    expect(content).to_contain_text("Rien n'a encore été écrit.")
    expect(content).to_contain_text("SIRET")
    expect(content).to_contain_text("Association au SIRET faux")
    screenshot(page, "import-apercu-refus")
    assert not Association.objects.filter(siret=SIRET_A).exists()

    right = tmp_path / "reseau.csv"
    right.write_bytes(csv_bytes([association_row(), person_row()]))
    _upload(page, live_url, right)
    expect(content).to_contain_text(re.compile(r"\b2 à créer\b.*\b0 refusée", re.DOTALL))
    screenshot(page, "import-apercu")
    page.get_by_role("button", name=re.compile("Confirmer")).click()
    expect(page.locator("#content h2")).to_contain_text("terminé")
    screenshot(page, "import-termine")
    director = User.objects.get(email="claire.martin@exemple.org")
    assert director.association.siret == SIRET_A

    page.goto(f"{live_url}/admin/directory/user/")
    page.locator("#result_list tbody tr").filter(has_text="Martin").locator("input[name=_selected_action]").check()
    page.locator("select[name=action]").select_option(label="Envoyer une invitation")
    page.locator("button[name=index]").click()
    expect(page.locator(".messagelist")).to_contain_text("1 invitation(s) envoyée(s).")
    screenshot(page, "import-invitation-envoyee")
    assert Invitation.objects.filter(person=director).exists()


def test_the_template_is_offered_in_both_formats(live_url, page, admin_person):
    log_in(page, live_url, "equipe.import", then="/admin/")
    page.goto(f"{live_url}/admin/directory/association/importer/")
    for extension in ("csv", "xlsx"):
        with page.expect_download() as download:
            page.locator(f"a[href$='modele.{extension}']").first.click()
        assert download.value.suggested_filename.endswith(f".{extension}")


def test_an_invited_person_chooses_a_password_and_arrives_signed_in(live_url, browser, screenshot):
    from directory.invitation_links import invitation_path
    from tests.factories import AssociationFactory

    person = make_person("claire.invitee", association=AssociationFactory(), roles=[RoleSpec(Role.DIRECTOR)],
                         first_name="Claire", last_name="Invitée", password="")
    person.set_unusable_password()
    person.save(update_fields=["password"])
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    try:
        link = f"{live_url}{invitation_path(person)}"
        page.goto(link)
        expect(page.locator("h1")).to_contain_text("Bienvenue sur Passerelles")
        screenshot(page, "invitation-choisir-mot-de-passe")
        fields = page.locator("form input[type=password]")
        fields.nth(0).fill("Un mot de passe solide 2026 !")
        fields.nth(1).fill("Un mot de passe solide 2026 !")
        page.locator("form:has(input[type=password]) [type=submit]").click()
        expect(page).not_to_have_url(re.compile(r"/invitation/|/compte/connexion/"))
        expect(page.locator(".user-menu summary")).to_contain_text("Claire Invitée")
        # The same link again, and even a freshly signed one: the account is active, no second password.
        for again in (link, f"{live_url}{invitation_path(User.objects.get(pk=person.pk))}"):
            page.goto(again)
            expect(page.locator("form input[type=password]")).to_have_count(0)
        screenshot(page, "invitation-lien-deja-utilise")
    finally:
        context.close()
