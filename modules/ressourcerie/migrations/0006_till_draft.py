from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0016_mirror_search_fold'), ('ressourcerie', '0005_cash_float')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TillDraft',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('fabcom.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('lines', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('payment_mode', fields.CharField(default='', max_length=16)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ressourcerie_till_draft', 'app': 'ressourcerie', 'unique_together': (('organization', 'user'),), 'indexes': [Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': 'The sale a cashier is ringing up at a site, kept between their requests so that a'},
            bases=['Model'],
        ),
    ]
