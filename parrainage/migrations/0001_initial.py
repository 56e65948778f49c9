"""The parrainages and onboarding steps, moved from the directory app onto their existing tables.

State only (SeparateDatabaseAndState): the tables `directory_parrainage` and
`directory_onboardingstep` (with their constraints) were created by the directory's migrations and
stay as they are (db_table); directory/migrations/0008_membership_and_parrainage_moved_out.py
removed the models from the directory's state. The content types are re-pointed from the
directory to this app.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

APP_LABEL = "parrainage"
MODELS = ('parrainage', 'onboardingstep')


def _move_content_types(apps, schema_editor, source: str, target: str) -> None:
    """Re-point the content types of MODELS from `source` to `target` app label, keeping their ids:
    the permissions already granted (and the admin's log) refer to those ids."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = ContentType.objects.using(schema_editor.connection.alias)
    for model in MODELS:
        old = rows.filter(app_label=source, model=model).first()
        if old is None:
            continue
        # A row under the target label exists only if post_migrate created it while the database
        # was migrated back and forth; it holds no grant of its own, the old row does.
        rows.filter(app_label=target, model=model).delete()
        old.app_label = target
        old.save(update_fields=["app_label"])


def forwards(apps, schema_editor) -> None:
    _move_content_types(apps, schema_editor, "directory", APP_LABEL)


def backwards(apps, schema_editor) -> None:
    _move_content_types(apps, schema_editor, APP_LABEL, "directory")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('directory', '0008_membership_and_parrainage_moved_out'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Parrainage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('proposed', 'Proposé'), ('active', 'En cours'), ('declined', 'Décliné'), ('ended', 'Terminé')], default='proposed', max_length=10, verbose_name='statut')),
                        ('started_on', models.DateField(blank=True, null=True, verbose_name='début')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='créé le')),
                        ('score', models.PositiveIntegerField(blank=True, null=True, verbose_name='score de proximité')),
                        ('reasons', models.JSONField(blank=True, default=list, verbose_name='raisons')),
                        ('responded_at', models.DateTimeField(blank=True, null=True, verbose_name='répondu le')),
                        ('decline_reason', models.TextField(blank=True, max_length=2000, verbose_name='motif du refus')),
                        ('filleul', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='parrainages_received', to='directory.association', verbose_name='filleul')),
                        ('parrain', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='parrainages_given', to='directory.association', verbose_name='parrain')),
                        ('proposed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='proposé par')),
                        ('responded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='réponse de')),
                    ],
                    options={
                        'verbose_name': 'parrainage',
                        'verbose_name_plural': 'parrainages',
                        'db_table': 'directory_parrainage',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='OnboardingStep',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('step', models.CharField(choices=[('welcome_meeting', 'Rencontre de bienvenue'), ('forum_introduction', 'Présentation sur le forum « Accueil des nouveaux adhérents »'), ('key_guides', 'Guides clés lus'), ('first_regional_meeting', 'Première réunion régionale')], max_length=30, verbose_name='étape')),
                        ('done_on', models.DateField(verbose_name='fait le')),
                        ('recorded_at', models.DateTimeField(auto_now=True, verbose_name='enregistré le')),
                        ('done_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='coché par')),
                        ('parrainage', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='parrainage.parrainage', verbose_name='parrainage')),
                    ],
                    options={
                        'verbose_name': "étape d'accueil",
                        'verbose_name_plural': "étapes d'accueil",
                        'db_table': 'directory_onboardingstep',
                        'ordering': ['parrainage', 'step'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='parrainage',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'active')), fields=('filleul',), name='one_active_parrain_per_filleul'),
                ),
                migrations.AddConstraint(
                    model_name='parrainage',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'proposed')), fields=('filleul',), name='one_open_proposal_per_filleul'),
                ),
                migrations.AddConstraint(
                    model_name='parrainage',
                    constraint=models.CheckConstraint(condition=models.Q(('parrain', models.F('filleul')), _negated=True), name='parrain_is_not_filleul'),
                ),
                migrations.AddConstraint(
                    model_name='onboardingstep',
                    constraint=models.UniqueConstraint(fields=('parrainage', 'step'), name='onboarding_step_once'),
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
