"""The membership applications' models, moved from the directory app onto their existing tables.

State only (SeparateDatabaseAndState): the tables `directory_membershipapplication` (and its two
many-to-many tables), `directory_applicationevent` and `directory_informationrequest` were created
by directory/migrations/0004_membership_and_parrainage.py and stay as they are (db_table);
directory/migrations/0008_membership_and_parrainage_moved_out.py removed the models from the
directory's state. The content types are re-pointed from the directory to this app.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

APP_LABEL = "membership"
MODELS = ('membershipapplication', 'applicationevent', 'informationrequest')


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
                    name='MembershipApplication',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('token_hash', models.CharField(editable=False, max_length=64, unique=True)),
                        ('status', models.CharField(choices=[('draft', 'Brouillon'), ('submitted', 'Déposée'), ('examining', "En cours d'examen"), ('info_requested', 'Informations demandées'), ('admitted', 'Admise'), ('refused', 'Refusée'), ('postponed', 'Ajournée')], db_index=True, default='draft', max_length=20, verbose_name='statut')),
                        ('name', models.CharField(max_length=200, verbose_name="nom de l'association")),
                        ('siret', models.CharField(blank=True, max_length=14, verbose_name='SIRET')),
                        ('address', models.CharField(blank=True, max_length=250, verbose_name='adresse')),
                        ('postal_code', models.CharField(blank=True, max_length=10, verbose_name='code postal')),
                        ('city', models.CharField(blank=True, max_length=120, verbose_name='ville')),
                        ('departement', models.CharField(blank=True, max_length=3, verbose_name='département')),
                        ('staff_count', models.PositiveIntegerField(blank=True, null=True, verbose_name='nombre de salarié·es')),
                        ('website', models.URLField(blank=True, verbose_name='site internet')),
                        ('contact_email', models.EmailField(max_length=254, verbose_name='courriel de suivi de la candidature')),
                        ('president_first_name', models.CharField(blank=True, max_length=150, verbose_name='prénom du ou de la président·e')),
                        ('president_last_name', models.CharField(blank=True, max_length=150, verbose_name='nom du ou de la président·e')),
                        ('president_email', models.EmailField(blank=True, max_length=254, verbose_name='courriel du ou de la président·e')),
                        ('president_phone', models.CharField(blank=True, max_length=30, verbose_name='téléphone du ou de la président·e')),
                        ('director_first_name', models.CharField(blank=True, max_length=150, verbose_name='prénom du directeur ou de la directrice')),
                        ('director_last_name', models.CharField(blank=True, max_length=150, verbose_name='nom du directeur ou de la directrice')),
                        ('director_email', models.EmailField(blank=True, max_length=254, verbose_name='courriel du directeur ou de la directrice')),
                        ('director_phone', models.CharField(blank=True, max_length=30, verbose_name='téléphone du directeur ou de la directrice')),
                        ('motivation', models.TextField(blank=True, max_length=5000, verbose_name='motivation')),
                        ('statutes', models.FileField(blank=True, upload_to='private/adhesion/', verbose_name='statuts')),
                        ('activity_report', models.FileField(blank=True, upload_to='private/adhesion/', verbose_name="dernier rapport d'activité")),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='créée le')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='modifiée le')),
                        ('submitted_at', models.DateTimeField(blank=True, null=True, verbose_name='déposée le')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='décidée le')),
                        ('decision_reason', models.TextField(blank=True, max_length=5000, verbose_name='motif de la décision')),
                        ('association', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='application', to='directory.association', verbose_name='association créée')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='décision enregistrée par')),
                        ('juridictions', models.ManyToManyField(blank=True, related_name='+', to='directory.juridiction', verbose_name='juridictions desservies')),
                        ('region', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.region', verbose_name='région')),
                        ('themes', models.ManyToManyField(blank=True, related_name='+', to='directory.theme', verbose_name='mesures et thématiques')),
                    ],
                    options={
                        'verbose_name': "candidature d'adhésion",
                        'verbose_name_plural': "candidatures d'adhésion",
                        'db_table': 'directory_membershipapplication',
                        'ordering': ['-submitted_at', '-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='InformationRequest',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('question', models.TextField(max_length=5000, verbose_name='question')),
                        ('asked_at', models.DateTimeField(auto_now_add=True, verbose_name='demandé le')),
                        ('answer', models.TextField(blank=True, max_length=10000, verbose_name='réponse')),
                        ('answer_file', models.FileField(blank=True, upload_to='private/adhesion/', verbose_name='pièce jointe')),
                        ('answered_at', models.DateTimeField(blank=True, null=True, verbose_name='répondu le')),
                        ('asked_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='demandé par')),
                        ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='requests', to='membership.membershipapplication', verbose_name='candidature')),
                    ],
                    options={
                        'verbose_name': "demande d'informations",
                        'verbose_name_plural': "demandes d'informations",
                        'db_table': 'directory_informationrequest',
                        'ordering': ['asked_at', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='ApplicationEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('created', 'Brouillon créé'), ('saved', 'Brouillon enregistré'), ('submitted', 'Candidature déposée'), ('examination', 'Examen commencé'), ('comment', "Avis d'un membre de la commission"), ('info_requested', 'Informations demandées'), ('info_answered', "Réponse de l'association"), ('decision', 'Décision'), ('accounts', 'Comptes créés')], max_length=20, verbose_name='nature')),
                        ('message', models.TextField(blank=True, max_length=5000, verbose_name='texte')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='le')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='par')),
                        ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='membership.membershipapplication', verbose_name='candidature')),
                    ],
                    options={
                        'verbose_name': 'étape de candidature',
                        'verbose_name_plural': 'étapes de candidature',
                        'db_table': 'directory_applicationevent',
                        'ordering': ['created_at', 'pk'],
                    },
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
