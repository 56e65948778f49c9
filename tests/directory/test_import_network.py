"""Loading the network from a spreadsheet (issue 14): fates of rows, refusals, idempotence, files,
the command and the admin's upload → preview → confirm pages."""

from __future__ import annotations

import io

import openpyxl
import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from directory import access, network_import
from directory.models import Association, User
from directory.roles import Role
from directory.siret import luhn_is_valid
from tests.factories import AssociationFactory, make_person, region

HEADERS = ["type", "siret", "nom", "prenom", "courriel", "telephone", "fonction", "roles", "portee", "ville",
           "departement", "region", "statut", "juridictions", "cours_appel", "identifiant"]


def valid_siret(prefix: str) -> str:
    """A SIRET with the right key: `prefix` (13 digits) followed by the check digit."""
    return next(prefix + digit for digit in "0123456789" if luhn_is_valid(prefix + digit))


SIRET_A = valid_siret("1234567800001")
SIRET_B = valid_siret("9876543200001")
BAD_SIRET = SIRET_A[:-1] + str((int(SIRET_A[-1]) + 1) % 10)


def association_row(siret=SIRET_A, name="Association Girondine", **overrides) -> dict:
    row = {"type": "association", "siret": siret, "nom": name, "ville": "Bordeaux", "departement": "33",
           "region": "Sud-Ouest", "statut": "adhérente", "juridictions": "Bordeaux|Libourne"}
    row.update(overrides)
    return row


def person_row(email="claire.martin@exemple.org", siret=SIRET_A, roles="directeur", **overrides) -> dict:
    row = {"type": "personne", "siret": siret, "nom": "Martin", "prenom": "Claire", "courriel": email,
           "fonction": "Directrice", "roles": roles}
    row.update(overrides)
    return row


def dataset(rows: list[dict], headers: list[str] = HEADERS) -> tablib.Dataset:
    data = tablib.Dataset(headers=headers)
    for row in rows:
        data.append([row.get(header, "") for header in headers])
    return data


def csv_bytes(rows: list[dict], *, delimiter=";", encoding="utf-8-sig", headers=HEADERS) -> bytes:
    return dataset(rows, headers).export("csv", delimiter=delimiter).encode(encoding)


def xlsx_bytes(rows: list[dict], headers=HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        # A SIRET typed in a spreadsheet is a number.
        sheet.append([int(row[h]) if h == "siret" and row.get(h, "").isdigit() else row.get(h, "") for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_rows(rows, **kwargs) -> network_import.ImportResult:
    return network_import.import_file(csv_bytes(rows), "reseau.csv", **kwargs)


def fates(preview) -> list[str]:
    return [row.fate for row in preview.rows]


NETWORK = [
    association_row(),
    person_row(),
    person_row("paul.durand@exemple.org", nom="Durand", prenom="Paul", roles="président·e"),
    person_row("lea.petit@exemple.org", nom="Petit", prenom="Léa", roles="DICA|membre", portee="Sud-Ouest"),
]


# --- creating -----------------------------------------------------------------------------------------


def test_import_creates_the_association_and_its_people(db):
    result = import_rows(NETWORK)

    assert fates(result.preview) == ["created"] * 4
    association = Association.objects.get(siret=SIRET_A)
    assert association.status == Association.Status.MEMBER
    assert association.region == region("sud-ouest")
    assert set(association.juridictions.values_list("slug", flat=True)) == {"tj-bordeaux", "tj-libourne"}
    assert set(association.cours.values_list("slug", flat=True)) == {"bordeaux"}
    assert set(association.people.values_list("email", flat=True)) == {
        "claire.martin@exemple.org", "paul.durand@exemple.org", "lea.petit@exemple.org"}


def test_imported_people_get_the_groups_of_their_roles(db):
    import_rows(NETWORK)

    claire = User.objects.get(email="claire.martin@exemple.org")
    lea = User.objects.get(email="lea.petit@exemple.org")
    assert access.has_role(claire, Role.DIRECTOR)
    assert access.is_member(claire)
    assert access.has_role(User.objects.get(email="paul.durand@exemple.org"), Role.PRESIDENT)
    assert access.has_role(lea, Role.DICA) and access.has_role(lea, Role.MEMBER)
    assert lea.role_assignments.get(role=Role.DICA).region == region("sud-ouest")
    assert claire.groups.exists()


def test_imported_people_are_active_without_a_usable_password(db):
    import_rows(NETWORK)

    claire = User.objects.get(email="claire.martin@exemple.org")
    assert claire.is_active
    assert not claire.has_usable_password()
    assert claire.username == "claire.martin"


def test_usernames_are_made_unique_from_the_names(db):
    make_person("claire.martin", email="autre@exemple.org")

    import_rows([association_row(), person_row(), person_row("c.martin@exemple.org")], only_valid=False)

    assert set(User.objects.filter(email__in=["claire.martin@exemple.org", "c.martin@exemple.org"])
               .values_list("username", flat=True)) == {"claire.martin2", "claire.martin3"}


def test_a_person_joins_an_association_already_in_the_directory_by_its_siret(db):
    existing = AssociationFactory(name="Déjà là", siret=SIRET_B)

    import_rows([person_row(siret=SIRET_B)])

    assert User.objects.get(email="claire.martin@exemple.org").association == existing


def test_french_role_labels_and_codes_are_accepted_whatever_the_case_and_accents(db):
    rows = [association_row(),
            person_row("a@exemple.org", roles="DIRECTEUR OU DIRECTRICE"),
            person_row("b@exemple.org", nom="B", roles="President·e"),
            person_row("c@exemple.org", nom="C", roles="member"),
            person_row("d@exemple.org", nom="D", roles="Référente", portee="Financement"),
            person_row("e@exemple.org", nom="E", roles="équipe fédérale", siret="")]

    result = import_rows(rows)

    assert not result.preview.has_refusals
    assert access.has_role(User.objects.get(email="d@exemple.org"), Role.REFERENT)
    assert access.has_role(User.objects.get(email="e@exemple.org"), Role.FEDERAL_STAFF)


def test_a_working_group_member_is_scoped_to_the_named_group(db, working_group):
    import_rows([association_row(), person_row(roles="membre|groupe de travail", portee="Éthique")])

    person = User.objects.get(email="claire.martin@exemple.org")
    assert person.role_assignments.get(role=Role.WORKING_GROUP_MEMBER).working_group == working_group


# --- matching again -----------------------------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(db):
    import_rows(NETWORK)

    with CaptureQueriesContext(connection) as queries:
        result = import_rows(NETWORK)

    assert fates(result.preview) == ["unchanged"] * 4
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


def test_a_corrected_file_updates_by_siret_and_email(db):
    import_rows(NETWORK)
    corrected = [association_row(name="Association Girondine de Contrôle Judiciaire", juridictions="Bordeaux"),
                 person_row("CLAIRE.MARTIN@exemple.org", telephone="06 11 22 33 44"), *NETWORK[2:]]

    result = import_rows(corrected)

    assert fates(result.preview) == ["updated", "updated", "unchanged", "unchanged"]
    assert "nom" in result.preview.rows[0].detail and "juridictions" in result.preview.rows[0].detail
    association = Association.objects.get(siret=SIRET_A)
    assert association.name == "Association Girondine de Contrôle Judiciaire"
    assert list(association.juridictions.values_list("slug", flat=True)) == ["tj-bordeaux"]
    claire = User.objects.get(email="claire.martin@exemple.org")
    assert claire.phone == "06 11 22 33 44"
    assert Association.objects.count() == 1 and User.objects.count() == 3


def test_a_changed_role_replaces_the_old_one_and_the_groups_follow(db):
    import_rows(NETWORK)

    import_rows([NETWORK[0], person_row(roles="président")])

    claire = User.objects.get(email="claire.martin@exemple.org")
    assert access.has_role(claire, Role.PRESIDENT)
    assert not access.has_role(claire, Role.DIRECTOR)


def test_a_person_moves_to_another_association_named_by_siret(db):
    import_rows(NETWORK)

    import_rows([association_row(SIRET_B, "Association Landaise", ville="Dax", departement="40",
                                 juridictions="Dax"), person_row(siret=SIRET_B)])

    assert User.objects.get(email="claire.martin@exemple.org").association.siret == SIRET_B


def test_a_new_status_goes_through_the_service_and_the_people_lose_member_access(db):
    import_rows(NETWORK)

    import_rows([association_row(statut="ancienne adhérente"), *NETWORK[1:]])

    assert Association.objects.get(siret=SIRET_A).status == Association.Status.FORMER
    assert not access.is_member(User.objects.get(email="claire.martin@exemple.org"))


def test_the_identifiant_column_lets_an_email_change(db, member):
    import_rows([person_row("nouvelle@exemple.org", siret="", roles="membre", identifiant=member.username,
                            nom=member.last_name, prenom=member.first_name)],
                )

    member.refresh_from_db()
    assert member.email == "nouvelle@exemple.org"


# --- refusals -----------------------------------------------------------------------------------------


REFUSALS = {
    "bad siret checksum": ([association_row(BAD_SIRET)], "clé de contrôle"),
    "unknown region": ([association_row(region="Atlantide")], "Région inconnue"),
    "unknown cour d'appel": ([association_row(cours_appel="Gotham")], "Cour d'appel inconnue"),
    "unknown juridiction": ([association_row(juridictions="Bordeaux|Springfield")], "Juridiction inconnue"),
    "missing value": ([association_row(ville="")], "ville manquant"),
    "unknown role": ([association_row(), person_row(roles="directeur|astronaute")], "rôle inconnu"),
    "role without scope": ([association_row(), person_row(roles="dica")], "demande une région"),
    "unknown scope": ([association_row(), person_row(roles="dica", portee="Sud-Ouest|Mars")], "portée inconnue"),
    "person without association": ([person_row(siret="")], "personne sans association"),
    "unknown association": ([person_row(siret=SIRET_B)], "aucune association n'a le SIRET"),
    "invalid email": ([association_row(), person_row("claire.martin@")], "adresse électronique"),
    "missing email": ([association_row(), person_row("")], "adresse électronique manquant"),
    "unknown type": ([{"type": "chat", "nom": "Minou"}], "type « chat » inconnu"),
}


@pytest.mark.parametrize("rows, reason", REFUSALS.values(), ids=REFUSALS.keys())
def test_every_refusal_has_a_french_reason(db, rows, reason):
    preview = network_import.preview_file(csv_bytes(rows), "reseau.csv")

    refused = [row for row in preview.rows if row.refused]
    assert refused, fates(preview)
    assert any(reason in row.detail for row in refused), [row.detail for row in refused]


def test_a_missing_column_refuses_the_rows_that_need_it(db):
    headers = [h for h in HEADERS if h != "courriel"]

    preview = network_import.preview_file(csv_bytes([association_row(), person_row()], headers=headers), "r.csv")

    assert fates(preview) == ["created", "refused"]
    assert "colonne « courriel » absente" in preview.rows[1].detail


def test_an_email_twice_in_the_file_refuses_both_rows(db):
    preview = network_import.preview_file(
        csv_bytes([association_row(), person_row(), person_row("Claire.Martin@exemple.org", nom="Autre")]), "r.csv")

    assert fates(preview) == ["created", "refused", "refused"]
    assert "plusieurs fois dans le fichier (lignes 3, 4)" in preview.rows[1].detail


def test_an_email_of_another_existing_person_is_refused(db, member, director):
    preview = network_import.preview_file(
        csv_bytes([person_row(director.email, siret="", roles="membre", identifiant=member.username)]), "r.csv")

    assert fates(preview) == ["refused"]
    assert "déjà celle d'une autre personne" in preview.rows[0].detail


def test_a_person_whose_association_row_is_refused_is_refused_too(db):
    preview = network_import.preview_file(csv_bytes([association_row(region="Atlantide"), person_row()]), "r.csv")

    assert fates(preview) == ["refused", "refused"]
    assert "son association (ligne 2) est refusée" in preview.rows[1].detail


def test_any_refused_row_means_nothing_is_written(db):
    rows = [*NETWORK, person_row("x@exemple.org", roles="astronaute")]

    with pytest.raises(network_import.ImportRefused) as refused:
        import_rows(rows)

    assert refused.value.preview.refused == 1
    assert not Association.objects.filter(siret=SIRET_A).exists()
    assert not User.objects.filter(email__endswith="@exemple.org").exists()


def test_only_valid_imports_the_other_rows(db):
    rows = [*NETWORK, person_row("x@exemple.org", roles="astronaute")]

    result = import_rows(rows, only_valid=True)

    assert result.preview.refused == 1 and result.preview.created == 4
    assert User.objects.filter(association__siret=SIRET_A).count() == 3
    assert not User.objects.filter(email="x@exemple.org").exists()


def test_a_failure_while_writing_leaves_nothing_half_written(db, monkeypatch):
    # The SIRET's uniqueness is also the database's: a row slipping past the checks fails the whole import.
    from directory import services

    def refuse_people(**kwargs):
        raise services.DirectoryError("refus simulé")

    monkeypatch.setattr(services, "create_person", refuse_people)
    with pytest.raises(services.DirectoryError):
        import_rows(NETWORK)

    assert not Association.objects.filter(siret=SIRET_A).exists()


# --- files --------------------------------------------------------------------------------------------


def test_xlsx_files_are_read_with_sirets_typed_as_numbers(db):
    result = network_import.import_file(xlsx_bytes(NETWORK), "reseau.xlsx")

    assert fates(result.preview) == ["created"] * 4
    assert Association.objects.filter(siret=SIRET_A).exists()


@pytest.mark.parametrize("delimiter, encoding", [(";", "utf-8-sig"), (",", "utf-8"), (";", "cp1252"),
                                                 (",", "cp1252")])
def test_csv_separators_and_encodings_are_recognised(db, delimiter, encoding):
    rows = [association_row(name="Association Sénonaise d'Éducation"), person_row(prenom="Clémence")]

    network_import.import_file(csv_bytes(rows, delimiter=delimiter, encoding=encoding), "reseau.csv")

    assert Association.objects.get(siret=SIRET_A).name == "Association Sénonaise d'Éducation"
    assert User.objects.get(email="claire.martin@exemple.org").first_name == "Clémence"


def test_french_headers_with_accents_are_understood(db):
    headers = ["Type", "SIRET", "Nom", "Prénom", "Courriel", "Rôles", "Ville", "Département", "Région"]
    data = tablib.Dataset(headers=headers)
    data.append(["association", SIRET_A, "Asso", "", "", "", "Pau", "64", "Sud-Ouest"])
    data.append(["personne", SIRET_A, "Martin", "Claire", "c@exemple.org", "Directrice", "", "", ""])

    result = network_import.import_file(data.export("csv").encode(), "r.csv")

    assert fates(result.preview) == ["created", "created"]


@pytest.mark.parametrize("content, name, message", [
    (b"%PDF-1.4 ...", "reseau.pdf", "CSV ou XLSX"),
    (b"", "reseau.csv", "vide"),
    (b"PK\x03\x04 pas un classeur", "reseau.xlsx", "illisible"),
    (b"ceci n'est pas un classeur", "reseau.xlsx", "pas un classeur XLSX"),
    (b"nom;ville\nA;B\n", "reseau.csv", "« type »"),
    (b"type;nom\nassociation;A;en trop;encore\n", "reseau.csv", "mal formé"),
])
def test_unreadable_files_get_a_french_error(db, content, name, message):
    with pytest.raises(network_import.ImportFileError, match=message):
        network_import.preview_file(content, name)


def test_files_over_the_row_limit_are_refused(db, monkeypatch):
    monkeypatch.setattr(network_import, "MAX_ROWS", 3)

    with pytest.raises(network_import.ImportFileError, match="3 au plus"):
        network_import.preview_file(csv_bytes(NETWORK), "r.csv")


def test_preview_makes_no_query_per_row(db, django_assert_max_num_queries):
    rows = [association_row()] + [person_row(f"p{i}@exemple.org", nom=f"N{i}") for i in range(200)]
    content = csv_bytes(rows)
    with CaptureQueriesContext(connection) as few:
        network_import.preview_file(csv_bytes(rows[:3]), "r.csv")

    with django_assert_max_num_queries(len(few.captured_queries)):
        preview = network_import.preview_file(content, "r.csv")

    assert preview.created == 201


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_template_is_a_valid_file_with_one_example_of_each_kind(db, file_format):
    content = network_import.template_bytes(file_format)

    preview = network_import.preview_file(content, f"modele.{file_format}")

    assert [row.kind for row in preview.rows] == ["association", "personne"]
    assert not preview.has_refusals, [row.detail for row in preview.rows]


# --- the command --------------------------------------------------------------------------------------


def test_command_imports_and_reports_each_row(db, tmp_path):
    path = tmp_path / "reseau.csv"
    path.write_bytes(csv_bytes(NETWORK))
    out = io.StringIO()

    call_command("import_network", str(path), stdout=out)

    assert "ligne 2 · association · Association Girondine : créée" in out.getvalue()
    assert "4 à créer" in out.getvalue()
    assert User.objects.filter(association__siret=SIRET_A).count() == 3


def test_command_dry_run_writes_nothing(db, tmp_path):
    path = tmp_path / "reseau.csv"
    path.write_bytes(csv_bytes(NETWORK))
    out = io.StringIO()

    call_command("import_network", str(path), "--dry-run", stdout=out)

    assert "rien n'a été écrit" in out.getvalue()
    assert not Association.objects.filter(siret=SIRET_A).exists()


def test_command_fails_on_refused_rows_unless_only_valid(db, tmp_path):
    path = tmp_path / "reseau.csv"
    path.write_bytes(csv_bytes([*NETWORK, person_row("x@exemple.org", roles="astronaute")]))
    out = io.StringIO()

    with pytest.raises(CommandError, match="--only-valid"):
        call_command("import_network", str(path), stdout=out)
    assert "rôle inconnu : « astronaute »" in out.getvalue()
    assert not Association.objects.filter(siret=SIRET_A).exists()

    call_command("import_network", str(path), "--only-valid", stdout=io.StringIO())
    assert Association.objects.filter(siret=SIRET_A).exists()


def test_command_explains_an_unreadable_file(db, tmp_path):
    path = tmp_path / "reseau.xlsx"
    path.write_bytes(b"rien")

    with pytest.raises(CommandError, match="XLSX"):
        call_command("import_network", str(path))


# --- the admin screens --------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client, db):
    client.force_login(make_person("admin.import", is_staff=True, is_superuser=True))
    return client


def upload(client, content: bytes, name: str = "reseau.csv"):
    return client.post(reverse("admin:directory_association_import"),
                       {"file": SimpleUploadedFile(name, content)})


def test_the_association_list_offers_the_import(superuser_client):
    response = superuser_client.get(reverse("admin:directory_association_changelist"))

    assert "Importer le réseau" in response.content.decode()
    assert reverse("admin:directory_association_import") in response.content.decode()


def test_upload_previews_every_row_and_writes_nothing(superuser_client):
    response = upload(superuser_client, csv_bytes([*NETWORK, person_row("x@exemple.org", roles="astronaute")]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "4 à créer" in content and "1 refusée(s)" in content
    assert "rôle inconnu : « astronaute »" in content
    assert "importer seulement les lignes valides" in content
    assert not Association.objects.filter(siret=SIRET_A).exists()


def test_upload_preview_then_confirm_imports(superuser_client):
    response = upload(superuser_client, xlsx_bytes(NETWORK), "reseau.xlsx")
    token = response.context["token"]

    response = superuser_client.post(reverse("admin:directory_association_import_confirm"), {"token": token})

    assert response.status_code == 200
    assert "terminé" in response.content.decode()
    assert User.objects.filter(association__siret=SIRET_A).count() == 3
    assert "Envoyer une invitation aux personnes créées" in response.content.decode()
    # The stored file is gone: confirming twice imports nothing more.
    again = superuser_client.post(reverse("admin:directory_association_import_confirm"), {"token": token})
    assert again.status_code == 302


def test_confirming_with_refused_rows_writes_nothing_unless_only_valid_is_ticked(superuser_client):
    rows = [*NETWORK, person_row("x@exemple.org", roles="astronaute")]
    token = upload(superuser_client, csv_bytes(rows)).context["token"]
    confirm = reverse("admin:directory_association_import_confirm")

    refused = superuser_client.post(confirm, {"token": token})
    assert refused.status_code == 200 and "Des lignes sont refusées" in refused.content.decode()
    assert not Association.objects.filter(siret=SIRET_A).exists()

    superuser_client.post(confirm, {"token": token, "only_valid": "on"})
    assert User.objects.filter(association__siret=SIRET_A).count() == 3


def test_an_unreadable_upload_shows_a_french_error(superuser_client):
    response = upload(superuser_client, b"pas un classeur", "reseau.xlsx")

    assert response.status_code == 200
    assert "pas un classeur XLSX" in response.content.decode()


def test_another_session_cannot_confirm_an_upload(superuser_client, db):
    token = upload(superuser_client, csv_bytes(NETWORK)).context["token"]
    other = Client()
    other.force_login(make_person("admin.autre", is_staff=True, is_superuser=True))

    response = other.post(reverse("admin:directory_association_import_confirm"), {"token": token})

    assert response.status_code == 302
    assert not Association.objects.filter(siret=SIRET_A).exists()


def test_the_people_just_imported_can_be_invited_at_once(superuser_client, mailoutbox,
                                                         django_capture_on_commit_callbacks):
    token = upload(superuser_client, csv_bytes(NETWORK)).context["token"]
    superuser_client.post(reverse("admin:directory_association_import_confirm"), {"token": token})

    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(reverse("admin:directory_user_invite_imported"))

    assert response.status_code == 302
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        ["claire.martin@exemple.org", "paul.durand@exemple.org", "lea.petit@exemple.org"])


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_templates_download(superuser_client, file_format):
    response = superuser_client.get(reverse(f"admin:directory_association_import_template_{file_format}"))

    assert response.status_code == 200
    assert f"modele-import-reseau.{file_format}" in response["Content-Disposition"]
    data = tablib.Dataset().load(response.content if file_format == "xlsx" else response.content.decode("utf-8-sig"),
                                 format=file_format, **({"delimiter": ";"} if file_format == "csv" else {}))
    assert data.headers == network_import.COLUMN_KEYS
    assert [row[0] for row in data] == ["association", "personne"]


IMPORT_URLS = [
    ("admin:directory_association_import", []),
    ("admin:directory_association_import_template_csv", []),
    ("admin:directory_association_import_template_xlsx", []),
]


@pytest.mark.parametrize("name, args", IMPORT_URLS)
def test_staff_without_the_permissions_get_403(client, db, name, args):
    # An admin account (is_staff) who is neither superuser nor federal staff allowed to add.
    client.force_login(make_person("staff.sans.droits", is_staff=True))

    assert client.get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize("name, args", IMPORT_URLS)
def test_federal_staff_with_the_add_permissions_may_import(client, staff, name, args):
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="directory", codename__in=["add_association", "add_user", "view_association"]))
    client.force_login(staff)

    assert client.get(reverse(name, args=args)).status_code == 200


def test_federal_staff_without_the_add_permissions_get_403(client, staff):
    client.force_login(staff)

    assert client.get(reverse("admin:directory_association_import")).status_code == 403
    assert client.post(reverse("admin:directory_association_import_confirm"), {"token": "x" * 30}).status_code == 403


def test_members_are_sent_to_the_admin_login(client, director):
    client.force_login(director)

    response = client.get(reverse("admin:directory_association_import"))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
