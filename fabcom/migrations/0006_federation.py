from tortoise import migrations
from tortoise.migrations import operations as ops
from fabcom.federation.models import Audience
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0005_web_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OutboxActivity',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('activity_uri', fields.CharField(unique=True, max_length=500)),
                ('type', fields.CharField(max_length=40)),
                ('object_uri', fields.CharField(db_index=True, max_length=500)),
                ('audience', fields.CharEnumField(description='PUBLIC: public\nPARTNERS: partners\nDIRECT: direct', enum_type=Audience, max_length=10)),
                ('recipients', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('payload', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fabcom_outbox_activity', 'app': 'fabcom', 'indexes': [Index(fields=['organization_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One activity published by a local organization. ``id`` orders the outbox: a'},
            bases=['Model'],
        ),
    ]
