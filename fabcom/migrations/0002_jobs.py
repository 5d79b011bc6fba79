from tortoise import migrations
from tortoise.migrations import operations as ops
from fabcom.jobs.models import JobStatus
from fabcom.notifications.preference_models import Channel
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Job',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('args', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('key', fields.CharField(unique=True, max_length=200)),
                ('status', fields.CharEnumField(default=JobStatus.PENDING, description='PENDING: pending\nRUNNING: running\nDONE: done\nFAILED: failed\nDEAD: dead', enum_type=JobStatus, max_length=8)),
                ('attempts', fields.IntField(default=0)),
                ('next_try_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('dispatched_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('first_failed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fabcom_job', 'app': 'fabcom', 'indexes': [Index(fields=['status', 'next_try_at'])], 'pk_attr': 'id', 'table_description': 'A unit of background work. The database, not Redis, is the source of truth: a'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotificationPreference',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('fabcom.User', source_field='user_id', db_constraint=True, to_field='id', related_name='notification_preference', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(default=Channel.IN_APP, description='IN_APP: in_app\nEMAIL: email\nDIGEST: digest', enum_type=Channel, max_length=8)),
                ('last_digest_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fabcom_notification_preference', 'app': 'fabcom', 'pk_attr': 'id', 'table_description': "A person's choice of channel (no row: the default, in the app only)."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('url', fields.CharField(max_length=500)),
                ('events', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('secret', fields.CharField(max_length=100)),
                ('description', fields.CharField(default='', max_length=200)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_by', fields.ForeignKeyField('fabcom.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'fabcom_webhook_endpoint', 'app': 'fabcom', 'pk_attr': 'id', 'table_description': "A partner's URL that receives the organization's events, signed with ``secret``"},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('endpoint', fields.ForeignKeyField('fabcom.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event', fields.CharField(max_length=60)),
                ('payload', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('message_id', fields.CharField(unique=True, max_length=60)),
                ('attempts', fields.IntField(default=0)),
                ('last_status_code', fields.IntField(null=True)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fabcom_webhook_delivery', 'app': 'fabcom', 'pk_attr': 'id', 'table_description': 'One event for one endpoint. ``message_id`` is the ``webhook-id`` header: the same'},
            bases=['Model'],
        ),
    ]
