"""Event registration: capacity, waiting list, promotion on cancel, one registration per person,
audience, the last seat under concurrency; the ICS file."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import close_old_connections, connection

from cms import services
from cms.models import EventRegistration
from directory.access import CmsAudience
from directory.roles import Role
from tests.factories import RoleSpec, make_person, region
from tests.factories.cms import add_event

pytestmark = pytest.mark.django_db

Status = EventRegistration.Status


def people(association, n: int, prefix: str = "participant"):
    return [make_person(f"{prefix}{i}.test", association=association, roles=[RoleSpec(Role.MEMBER)])
            for i in range(n)]


def statuses(event) -> dict[str, str]:
    return dict(EventRegistration.objects.filter(event=event).values_list("user__username", "status"))


def test_registrations_are_confirmed_up_to_the_capacity_then_go_to_the_waiting_list(association):
    event = add_event("Journée CJSE", capacity=2)
    a, b, c, d = people(association, 4)
    assert [services.register_for_event(event, p).status for p in (a, b, c, d)] == [
        Status.CONFIRMED, Status.CONFIRMED, Status.WAITING, Status.WAITING]


def test_an_event_without_capacity_confirms_everyone(association):
    event = add_event("Journée ouverte", capacity=None)
    assert {services.register_for_event(event, p).status for p in people(association, 5)} == {Status.CONFIRMED}


def test_a_cancellation_promotes_the_first_on_the_waiting_list_and_tells_them(association):
    event = add_event("Formation écrits", capacity=1)
    first, second, third = people(association, 3)
    for person in (first, second, third):
        services.register_for_event(event, person)
    mail.outbox.clear()
    promoted = services.cancel_registration(event, first)
    assert [r.user for r in promoted] == [second]
    assert statuses(event) == {first.username: Status.CANCELLED, second.username: Status.CONFIRMED,
                               third.username: Status.WAITING}


def test_the_promoted_person_gets_an_email_after_commit(association, django_capture_on_commit_callbacks):
    event = add_event("Formation écrits", capacity=1)
    first, second = people(association, 2)
    services.register_for_event(event, first)
    services.register_for_event(event, second)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_registration(event, first)
    assert [m.to for m in mail.outbox] == [[second.email]]
    assert "une place s'est libérée" in mail.outbox[0].subject


def test_a_waiting_person_who_cancels_frees_no_seat(association):
    event = add_event("Formation écrits", capacity=1)
    first, second, third = people(association, 3)
    for person in (first, second, third):
        services.register_for_event(event, person)
    assert services.cancel_registration(event, second) == []
    assert statuses(event)[third.username] == Status.WAITING


def test_registering_twice_is_refused(association):
    event = add_event("Journée CJSE", capacity=1)
    first, second = people(association, 2)
    services.register_for_event(event, first)
    services.register_for_event(event, second)
    with pytest.raises(services.CmsError, match="déjà inscrit"):
        services.register_for_event(event, first)
    with pytest.raises(services.CmsError, match="déjà sur la liste d'attente"):
        services.register_for_event(event, second)
    assert EventRegistration.objects.filter(event=event).count() == 2


def test_someone_who_cancelled_may_register_again_at_the_end_of_the_queue(association):
    event = add_event("Journée CJSE", capacity=1)
    first, second = people(association, 2)
    services.register_for_event(event, first)
    services.cancel_registration(event, first)
    services.register_for_event(event, second)
    assert services.register_for_event(event, first).status == Status.WAITING
    assert EventRegistration.objects.filter(event=event, user=first).count() == 1


def test_a_newcomer_does_not_jump_the_waiting_list_when_the_capacity_grows(association):
    event = add_event("Journée CJSE", capacity=1)
    first, second, third = people(association, 3)
    services.register_for_event(event, first)
    services.register_for_event(event, second)
    event.capacity = 2
    event.save_revision().publish()
    assert services.register_for_event(event, third).status == Status.WAITING
    assert statuses(event)[second.username] == Status.CONFIRMED


def test_cancelling_without_a_registration_is_refused(member):
    event = add_event("Journée CJSE", capacity=1)
    with pytest.raises(services.CmsError, match="pas inscrit"):
        services.cancel_registration(event, member)


def test_only_the_audience_may_register(member, president, staff):
    event = add_event("Atelier des Président·es", audience=CmsAudience.PRESIDENTS, capacity=10)
    with pytest.raises(services.CmsError, match="réservé"):
        services.register_for_event(event, member)
    assert services.register_for_event(event, president).status == Status.CONFIRMED
    assert services.register_for_event(event, staff).status == Status.CONFIRMED


def test_a_regional_meeting_is_for_the_region(member, dica):
    event = add_event("Réunion régionale Nord-Est", audience=CmsAudience.REGION, region=region("nord-est"))
    assert services.register_for_event(event, dica).status == Status.CONFIRMED
    with pytest.raises(services.CmsError, match="réservé"):
        services.register_for_event(event, member)


def test_past_and_closed_events_refuse_registrations(member):
    past = add_event("Journée passée", starts_in_days=-10)
    with pytest.raises(services.CmsError, match="passé"):
        services.register_for_event(past, member)
    closed = add_event("Inscriptions closes")
    closed.registration_open = False
    closed.save_revision().publish()
    with pytest.raises(services.CmsError, match="closes"):
        services.register_for_event(closed, member)


def test_a_non_member_may_not_register(candidate_person):
    event = add_event("Journée CJSE")
    with pytest.raises(services.CmsError, match="réservées aux membres"):
        services.register_for_event(event, candidate_person)


# --- Through the page ------------------------------------------------------------------------------


def test_a_member_registers_and_cancels_from_the_event_page(client, member):
    event = add_event("Journée CJSE", capacity=3)
    client.force_login(member)
    page = client.get(event.url).content.decode()
    assert "M&#x27;inscrire" in page or "M'inscrire" in page
    response = client.post(event.url + "inscription/", follow=True)
    assert response.redirect_chain[-1][0] == event.url
    assert "Votre inscription est confirmée." in response.content.decode()
    response = client.post(event.url + "desinscription/", follow=True)
    assert "Votre inscription est annulée." in response.content.decode()
    assert statuses(event) == {member.username: Status.CANCELLED}


def test_registration_routes_refuse_get_and_explain_refusals(client, member, association):
    event = add_event("Formation complète", capacity=1)
    client.force_login(member)
    assert client.get(event.url + "inscription/").status_code == 405
    client.post(event.url + "inscription/")
    response = client.post(event.url + "inscription/", follow=True)
    assert response.status_code == 200
    assert "déjà inscrit" in response.content.decode()


def test_the_event_page_shows_the_waiting_position(client, association, member):
    event = add_event("Formation écrits", capacity=1)
    first, = people(association, 1)
    services.register_for_event(event, first)
    services.register_for_event(event, member)
    client.force_login(member)
    page = client.get(event.url).content.decode()
    assert "liste d&#x27;attente (position 1)" in page or "liste d'attente (position 1)" in page


def test_staff_see_who_registered_and_members_do_not(client, association, member, staff):
    event = add_event("Journée CJSE", capacity=5)
    first, = people(association, 1, prefix="inscrite")
    services.register_for_event(event, first)
    client.force_login(staff)
    assert "Inscrite0 Testeur" in client.get(event.url).content.decode()
    client.force_login(member)
    assert "Inscrite0 Testeur" not in client.get(event.url).content.decode()


def test_anonymous_posts_to_registration_go_to_login(client):
    event = add_event("Journée CJSE")
    response = client.post(event.url + "inscription/")
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/connexion/")
    assert not EventRegistration.objects.exists()


# --- ICS -----------------------------------------------------------------------------------------


def test_the_ics_file_is_a_valid_calendar_with_crlf_lines_of_at_most_75_octets(client, member, settings):
    event = add_event("Journée thématique : le contrôle judiciaire socio-éducatif, alternative à la détention",
                      place="Maison du Barreau, 2 rue de Harlay; Paris", video_link="https://visio.exemple.fr/cjse")
    client.force_login(member)
    response = client.get(event.url + "calendrier/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{event.slug}.ics"'
    raw = response.content
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    unfolded = raw.decode().replace("\r\n ", "").split("\r\n")
    assert unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-2] == "END:VCALENDAR"
    fields = dict(line.split(":", 1) for line in unfolded if ":" in line)
    assert fields["UID"] == f"evenement-{event.pk}@passerelles"
    assert fields["SUMMARY"].startswith("Journée thématique : le contrôle judiciaire socio-éducatif\\,")
    assert fields["LOCATION"] == "Maison du Barreau\\, 2 rue de Harlay\\; Paris"
    # Built from SITE_URL, never from the request's Host (core/links.py).
    assert fields["URL"] == f"{settings.SITE_URL}{event.url}"
    assert {"VERSION", "PRODID", "DTSTAMP", "DTEND", "BEGIN", "END"} <= fields.keys()


def test_the_ics_dates_are_utc(member):
    from datetime import UTC

    from cms.selectors_events import event_ics

    event = add_event("Journée CJSE")
    unfolded = event_ics(event).replace("\r\n ", "")
    assert f"DTSTART:{event.starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}" in unfolded
    assert f"DTEND:{(event.starts_at + timedelta(hours=3)).astimezone(UTC):%Y%m%dT%H%M%SZ}" in unfolded


def test_a_private_event_calendar_is_not_given_to_anonymous_visitors(client):
    event = add_event("Journée CJSE")
    assert client.get(event.url + "calendrier/").status_code == 302


# --- The last seat -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_racing_for_the_last_seat_cannot_both_get_it():
    from tests.factories import AssociationFactory

    association = AssociationFactory(name="Association de la course")
    event = add_event("Formation à une place", capacity=1)
    racers = people(association, 2, prefix="coureur")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def register(person):
        try:
            barrier.wait(timeout=10)
            results.append(services.register_for_event(event, person).status)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(p,)) for p in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    close_old_connections()
    assert errors == []
    assert sorted(results) == [Status.CONFIRMED, Status.WAITING]
    assert EventRegistration.objects.filter(event=event, status=Status.CONFIRMED).count() == 1


def test_a_regional_event_whose_region_was_deleted_still_answers(client, member, staff):
    from directory.models import Region

    lost = Region.objects.create(name="Région supprimée", slug="region-supprimee")
    event = add_event("Réunion d'une région disparue", audience=CmsAudience.REGION, region=lost)
    lost.delete()
    event = type(event).objects.get(pk=event.pk)
    client.force_login(member)
    response = client.get(event.url)
    assert response.status_code == 200
    assert "réservé" in response.content.decode()
    assert client.get("/").status_code == 200
    assert services.register_for_event(event, staff).status == Status.CONFIRMED
