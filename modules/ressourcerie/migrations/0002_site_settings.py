from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0001_initial'), ('ressourcerie', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SiteSettings',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.OneToOneField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('share_figures', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ressourcerie_site_settings', 'app': 'ressourcerie', 'pk_attr': 'id', 'table_description': "A site's choices for this module. ``share_figures``: its partners' reports may add"},
            bases=['Model'],
        ),
    ]
