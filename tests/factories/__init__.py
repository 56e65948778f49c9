"""factory_boy factories. People are created through directory.services so groups stay in sync."""

import factory
from django.utils.text import slugify

from directory import services
from directory.models import Association, CourDAppel, Juridiction, Region, Theme, WorkingGroup
from directory.roles import Role
from directory.services import RoleSpec

DEFAULT_PASSWORD = "mot-de-passe-de-test"


class AssociationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Association
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Association de test {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    city = "Bordeaux"
    departement = "33"
    region = factory.LazyFunction(lambda: Region.objects.get(slug="sud-ouest"))
    staff_count = 12
    status = Association.Status.MEMBER

    @factory.post_generation
    def juridictions(self, create, extracted, **kwargs):
        if create and extracted:
            services.set_coverage(self, extracted)

    @factory.post_generation
    def themes(self, create, extracted, **kwargs):
        if create and extracted:
            self.themes.set(extracted)


class WorkingGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingGroup
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Groupe de travail {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


def make_person(
    username: str,
    *,
    association: Association | None = None,
    roles: list[RoleSpec] | None = None,
    password: str = DEFAULT_PASSWORD,
    **fields,
):
    """Create a person through the directory service (groups synced), with a usable password."""
    fields.setdefault("first_name", username.split(".")[0].capitalize())
    fields.setdefault("last_name", "Testeur")
    fields.setdefault("email", f"{username}@exemple.org")
    return services.create_person(
        username=username, association=association, roles=roles or [], password=password, **fields
    )


def region(slug: str = "sud-ouest") -> Region:
    return Region.objects.get(slug=slug)


def cour(slug: str = "bordeaux") -> CourDAppel:
    return CourDAppel.objects.get(slug=slug)


def juridiction(slug: str = "tj-bordeaux") -> Juridiction:
    return Juridiction.objects.get(slug=slug)


def theme(slug: str) -> Theme:
    return Theme.objects.get(slug=slug)


__all__ = [
    "AssociationFactory",
    "WorkingGroupFactory",
    "make_person",
    "Role",
    "RoleSpec",
    "region",
    "cour",
    "juridiction",
    "theme",
    "DEFAULT_PASSWORD",
]
