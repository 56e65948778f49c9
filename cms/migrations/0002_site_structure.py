"""The CMS structure of a real install: home page at the site root, members-only resources root,
members' collection, staff permissions and the review workflow (see cms/setup.py)."""

from django.db import migrations


def create_structure(apps, schema_editor):
    # local import: the live setup code is loaded only when this migration is applied, not when it is listed
    from cms.setup import ensure_site_structure

    ensure_site_structure(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0006_formstate"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailimages", "0027_image_description"),
        ("directory", "0003_notification_frequency"),
    ]

    operations = [migrations.RunPython(create_structure, migrations.RunPython.noop)]
