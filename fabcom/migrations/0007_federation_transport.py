from tortoise import migrations
from tortoise.migrations import operations as ops
from fabcom.federation.models import InboxStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0006_federation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ActorKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('owner', fields.CharField(unique=True, max_length=40)),
                ('private_key_pem', fields.TextField(unique=False)),
                ('public_key_pem', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fabcom_actor_key', 'app': 'fabcom', 'pk_attr': 'id', 'table_description': 'The RSA keypair a local actor signs with: ``owner`` is ``org:<id>`` for an'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InboxMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('activity_uri', fields.CharField(unique=True, max_length=500)),
                ('type', fields.CharField(max_length=40)),
                ('actor_uri', fields.CharField(db_index=True, max_length=500)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('payload', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharEnumField(default=InboxStatus.RECEIVED, description='RECEIVED: received\nPROCESSED: processed\nIGNORED: ignored', enum_type=InboxStatus, max_length=10)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fabcom_inbox_message', 'app': 'fabcom', 'pk_attr': 'id', 'table_description': 'An activity received in an inbox, stored as received (after its signature was'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RemoteActor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uri', fields.CharField(unique=True, max_length=500)),
                ('host', fields.CharField(db_index=True, max_length=255)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('type', fields.CharField(default='', max_length=40)),
                ('inbox', fields.CharField(default='', max_length=500)),
                ('shared_inbox', fields.CharField(default='', max_length=500)),
                ('outbox', fields.CharField(default='', max_length=500)),
                ('key_id', fields.CharField(default='', db_index=True, max_length=500)),
                ('public_key_pem', fields.TextField(default='', unique=False)),
                ('fetched_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('catch_up_next', fields.CharField(default='', max_length=1000)),
                ('caught_up_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fabcom_remote_actor', 'app': 'fabcom', 'pk_attr': 'id', 'table_description': 'What we know of an actor on another server: where to deliver, how to check its'},
            bases=['Model'],
        ),
    ]
