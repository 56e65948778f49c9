"""Federal staff see and lift login blocks in /admin/ (issue 16, item 2), in Chromium: the list, the
action, and no serious or critical axe-core violation in what the screen adds to Django's admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from directory.models import LoginBlock
from tests.browser.steps import log_in
from tests.browser.test_accessibility import FAILING_IMPACTS, axe_source, describe, run_axe  # noqa: F401
from tests.factories import Role, RoleSpec, make_person

pytestmark = pytest.mark.browser


def test_staff_see_the_blocks_and_lift_a_lock(axe_source, live_url, page, screenshot):  # noqa: F811
    make_person("equipe.blocages", roles=[RoleSpec(Role.FEDERAL_STAFF)], is_staff=True)
    owner = make_person("alice.verrouillee")
    now = timezone.now()
    LoginBlock.objects.create(kind=LoginBlock.Kind.ACCOUNT, account="alice.verrouillee", person=owner,
                              failures=31, addresses=6, blocked_at=now, unlock_sent_at=now)
    LoginBlock.objects.create(kind=LoginBlock.Kind.PAIR, account="alice.verrouillee", person=owner,
                              address="203.0.113.7", failures=5, blocked_at=now,
                              blocked_until=now + timedelta(minutes=28))
    LoginBlock.objects.create(kind=LoginBlock.Kind.ADDRESS, address="198.51.100.20", failures=50,
                              blocked_at=now, blocked_until=now + timedelta(minutes=40))
    log_in(page, live_url, "equipe.blocages")

    page.goto(f"{live_url}/admin/directory/loginblock/?etat=en-cours")

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("203.0.113.7")).to_be_visible()
    violations = run_axe(page, axe_source)
    screenshot(page, "blocages-connexion-liste")
    print(f"\nblocages (page entière) :\n{describe(violations) or '    aucune violation'}")
    # What the screen adds: the list, its filters and its action (#content). Django's admin chrome around
    # it (header, breadcrumbs, whose link colours axe-core finds too faint) is Django's own, on every page.
    added = page.evaluate("""async () => {
        const results = await axe.run({include: [["#content"]]}, {resultTypes: ["violations"]});
        return results.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary})),
        }));
    }""")
    failing = [violation for violation in added if violation["impact"] in FAILING_IMPACTS]
    assert not failing, describe(failing)

    page.get_by_role("row", name="compte verrouillé").get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option("lift")
    page.get_by_role("button", name="Envoyer").click()

    expect(page.get_by_text("1 blocage levé.")).to_be_visible()
    screenshot(page, "blocages-connexion-leve")
    assert LoginBlock.objects.get(kind=LoginBlock.Kind.ACCOUNT).lifted_at is not None
