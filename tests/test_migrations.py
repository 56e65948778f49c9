"""Models and migrations agree, and no migration is needed inside an installed package.

A machina setting that changes a field (MACHINA_POST_CONTENT_MAX_LENGTH, say) would make Django
want a migration inside machina's own package, which a fresh machine would not have.
"""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"Migrations manquantes :\n{out.getvalue()} (code {exit_.code})")
