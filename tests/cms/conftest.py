"""Fixtures of the CMS tests: uploaded documents go to a temporary media folder."""

import pytest

from tests.factories import Role, RoleSpec, make_person


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def other_staff(db):
    return make_person("relectrice.test", roles=[RoleSpec(Role.FEDERAL_STAFF)], job_title="Conseillère technique",
                       is_staff=True)
