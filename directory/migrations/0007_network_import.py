"""Issue 14: associations get their SIRET (unique when given), people their invitation record."""

import directory.models
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0006_managed_groups'),
    ]

    operations = [
        migrations.CreateModel(
            name='Invitation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('first_sent_at', models.DateTimeField(verbose_name='première invitation le')),
                ('sent_at', models.DateTimeField(db_index=True, verbose_name='dernière invitation le')),
                ('times_sent', models.PositiveIntegerField(default=0, verbose_name="nombre d'envois")),
                ('accepted_at', models.DateTimeField(blank=True, db_index=True, null=True, verbose_name='activée le')),
            ],
            options={
                'verbose_name': 'invitation',
                'verbose_name_plural': 'invitations',
                'ordering': ['-sent_at'],
            },
        ),
        migrations.AddField(
            model_name='association',
            name='siret',
            field=models.CharField(blank=True, default='', help_text="14 chiffres ; sert à retrouver l'association lors d'un import du réseau.", max_length=14, validators=[directory.models.validate_siret], verbose_name='SIRET'),
        ),
        migrations.AddConstraint(
            model_name='association',
            constraint=models.UniqueConstraint(condition=models.Q(('siret', ''), _negated=True), fields=('siret',), name='association_siret_unique'),
        ),
        migrations.AddField(
            model_name='invitation',
            name='person',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='invitation', to=settings.AUTH_USER_MODEL, verbose_name='personne'),
        ),
        migrations.AddField(
            model_name='invitation',
            name='sent_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='envoyée par'),
        ),
    ]
