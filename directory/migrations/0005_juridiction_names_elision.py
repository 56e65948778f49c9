"""Juridiction names with the French elision: "Tribunal judiciaire d'Agen", not "de Agen".

Re-runs the (idempotent) reference loader, which now writes the names with `reference.de`.
"""

from django.db import migrations


def reload_reference(apps, schema_editor):
    from directory.reference import load_reference_data

    load_reference_data(
        apps.get_model("directory", "Region"),
        apps.get_model("directory", "CourDAppel"),
        apps.get_model("directory", "Juridiction"),
        apps.get_model("directory", "Theme"),
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0004_membership_and_parrainage")]

    operations = [migrations.RunPython(reload_reference, migrations.RunPython.noop)]
