from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0001_initial'), ('ressourcerie', '0002_site_settings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RemoteFigures',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uri', fields.CharField(unique=True, max_length=500)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('period_start', fields.DateField()),
                ('period_end', fields.DateField()),
                ('months', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('remote_updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('received_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ressourcerie_remote_figures', 'app': 'ressourcerie', 'pk_attr': 'id', 'table_description': "A remote partner's monthly figures, as it published them (read-only mirror, one row"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='SiteSettings',
            name='figures_digest',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
    ]
