"""directory.fragments: the key of a cached fragment follows the access version, the audience and the
stamp, and a fragment rendered for one audience is never served to another."""

from django.template import Context, Template

from directory import access, fragments

TEMPLATE = Template(
    "{% load fragment_tags %}{% fragment 'who' audience stamp %}{{ label }}{% endfragment %}"
)


def render(audience, label, stamp=""):
    return TEMPLATE.render(Context({"audience": audience, "label": label, "stamp": stamp}))


def test_same_audience_shares_the_fragment_and_another_audience_gets_its_own(director, dica, db):
    director_audience = fragments.profile_audience(director)
    dica_audience = fragments.profile_audience(dica)
    assert director_audience != dica_audience
    assert render(director_audience, "pour la direction") == "pour la direction"
    # Same audience: the cached copy, whatever the context now says.
    assert render(director_audience, "autre chose") == "pour la direction"
    # Another audience never gets it.
    assert render(dica_audience, "pour la DICA") == "pour la DICA"


def test_an_access_change_renders_every_fragment_again(director, db):
    audience = fragments.profile_audience(director)
    assert render(audience, "avant") == "avant"
    access.changed()
    assert render(audience, "après") == "après"


def test_a_content_change_renders_fragments_stamped_with_that_scope_again(director, db):
    audience = fragments.profile_audience(director)
    assert render(audience, "avant", fragments.content_version("forum")) == "avant"
    assert render(audience, "pareil", fragments.content_version("forum")) == "avant"
    fragments.content_changed("forum")
    assert render(audience, "après", fragments.content_version("forum")) == "après"


def test_without_an_audience_nothing_is_shared(db):
    assert render("", "un") == "un"
    assert render("", "deux") == "deux"


def test_audiences_differ_by_kind_so_a_digest_never_collides_with_a_person(director):
    assert fragments.personal_audience(director) != fragments.profile_audience(director)
    assert fragments.audience({1, 2}) == fragments.audience({2, 1})
    assert fragments.audience({1, 2}) != fragments.audience({1, 3})
