"""Recording an active parrainage at once (demo data, sponsorships that predate the platform)."""

import pytest

from parrainage import services
from parrainage.models import Parrainage
from tests.factories import AssociationFactory


def test_an_association_cannot_sponsor_itself(association):
    with pytest.raises(services.ParrainageError):
        services.start_parrainage(association, association)


def test_a_filleul_has_one_active_parrain(association, other_region_association):
    newcomer = AssociationFactory(name="Nouvelle association")
    services.start_parrainage(association, newcomer)
    with pytest.raises(services.ParrainageError, match="déjà un parrain"):
        services.start_parrainage(other_region_association, newcomer)
    assert Parrainage.objects.filter(filleul=newcomer, status=Parrainage.Status.ACTIVE).count() == 1
