"""Groups keyed by stable keys (directory.models.ManagedGroup) instead of their display names.

Existing groups are linked by the names they were given until now: the role groups' fixed names,
"Région : <name>" and "Groupe de travail : <name>".
"""

import django.db.models.deletion
from django.db import migrations, models

ROLE_GROUP_NAMES = {
    "director": "Directeurs et directrices",
    "president": "Président·es",
    "board_admin": "Conseil d'administration",
    "dica": "DICA",
    "correspondent": "Correspondant·es interrégionaux",
    "referent": "Référent·es thématiques",
    "federal_staff": "Équipe fédérale",
    "membership_commission": "Commission d'adhésion",
    "working_group_member": "Groupes de travail",
    "member": "Membres",
}


def link_existing_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    ManagedGroup = apps.get_model("directory", "ManagedGroup")
    Region = apps.get_model("directory", "Region")
    WorkingGroup = apps.get_model("directory", "WorkingGroup")
    wanted = {f"role:{role}": name for role, name in ROLE_GROUP_NAMES.items()}
    wanted.update({f"region:{pk}": f"Région : {name}" for pk, name in Region.objects.values_list("pk", "name")})
    wanted.update({f"wg:{pk}": f"Groupe de travail : {name}"
                   for pk, name in WorkingGroup.objects.values_list("pk", "name")})
    groups = dict(Group.objects.filter(name__in=wanted.values()).values_list("name", "pk"))
    ManagedGroup.objects.bulk_create(
        [ManagedGroup(key=key, group_id=groups[name]) for key, name in wanted.items() if name in groups],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("directory", "0005_juridiction_names_elision"),
    ]

    operations = [
        migrations.CreateModel(
            name="ManagedGroup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=100, unique=True, verbose_name="clé")),
                ("group", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="managed",
                                               to="auth.group", verbose_name="groupe")),
            ],
            options={
                "verbose_name": "groupe géré par l'annuaire",
                "verbose_name_plural": "groupes gérés par l'annuaire",
                "ordering": ["key"],
            },
        ),
        migrations.RunPython(link_existing_groups, migrations.RunPython.noop),
    ]
