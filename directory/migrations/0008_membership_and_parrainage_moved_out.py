"""Membership applications and parrainages leave the directory app, their tables stay.

Only Django's state changes here: the models are created again, on the same tables (db_table), by
membership/migrations/0001_initial.py and parrainage/migrations/0001_initial.py, which depend on
this migration; their content types are re-pointed there, so that permissions already granted keep
working. No row moves. tests/membership/test_migrations_from_previous_layout.py migrates a database
of the previous layout through these migrations.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0007_network_import'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='informationrequest',
                    name='application',
                ),
                migrations.RemoveField(
                    model_name='informationrequest',
                    name='asked_by',
                ),
                migrations.RemoveField(
                    model_name='membershipapplication',
                    name='association',
                ),
                migrations.RemoveField(
                    model_name='membershipapplication',
                    name='decided_by',
                ),
                migrations.RemoveField(
                    model_name='membershipapplication',
                    name='juridictions',
                ),
                migrations.RemoveField(
                    model_name='membershipapplication',
                    name='region',
                ),
                migrations.RemoveField(
                    model_name='membershipapplication',
                    name='themes',
                ),
                migrations.RemoveField(
                    model_name='onboardingstep',
                    name='done_by',
                ),
                migrations.RemoveField(
                    model_name='onboardingstep',
                    name='parrainage',
                ),
                migrations.RemoveField(
                    model_name='parrainage',
                    name='filleul',
                ),
                migrations.RemoveField(
                    model_name='parrainage',
                    name='parrain',
                ),
                migrations.RemoveField(
                    model_name='parrainage',
                    name='proposed_by',
                ),
                migrations.RemoveField(
                    model_name='parrainage',
                    name='responded_by',
                ),
                migrations.DeleteModel(
                    name='ApplicationEvent',
                ),
                migrations.DeleteModel(
                    name='InformationRequest',
                ),
                migrations.DeleteModel(
                    name='MembershipApplication',
                ),
                migrations.DeleteModel(
                    name='OnboardingStep',
                ),
                migrations.DeleteModel(
                    name='Parrainage',
                ),
            ],
        ),
    ]
