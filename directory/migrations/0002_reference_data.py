from django.db import migrations


def load(apps, schema_editor):
    from directory.reference import load_reference_data

    load_reference_data(
        apps.get_model("directory", "Region"),
        apps.get_model("directory", "CourDAppel"),
        apps.get_model("directory", "Juridiction"),
        apps.get_model("directory", "Theme"),
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
