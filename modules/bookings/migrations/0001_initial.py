from tortoise import migrations
from tortoise.migrations import operations as ops
from modules.bookings.models import BookingState
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='BookingRule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('item', fields.OneToOneField('fabcom.Item', source_field='item_id', db_constraint=True, to_field='id', related_name='booking_rule', on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('slot_minutes', fields.IntField(default=60)),
                ('buffer_minutes', fields.IntField(default=0)),
                ('max_duration_minutes', fields.IntField(default=480)),
                ('opening_hours', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('timezone', fields.CharField(default='Europe/Paris', max_length=64)),
                ('allowed_roles', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('partner_members_allowed', fields.BooleanField(default=False)),
                ('requires_approval', fields.BooleanField(default=False)),
                ('is_loan', fields.BooleanField(default=False)),
                ('deposit', fields.DecimalField(default=0, max_digits=10, decimal_places=2)),
                ('version', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'bookings_rule', 'app': 'bookings', 'pk_attr': 'id', 'table_description': 'Makes an item bookable, with its rules. ``opening_hours`` maps a weekday'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Booking',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('rule', fields.ForeignKeyField('bookings.BookingRule', source_field='rule_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.CASCADE)),
                ('item', fields.ForeignKeyField('fabcom.Item', source_field='item_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('fabcom.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.SET_NULL)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('state', fields.CharEnumField(description='REQUESTED: requested\nCONFIRMED: confirmed\nCANCELLED: cancelled\nCHECKED_OUT: checked_out\nRETURNED: returned\nOVERDUE: overdue', enum_type=BookingState, max_length=12)),
                ('note', fields.CharField(default='', max_length=500)),
                ('deposit', fields.DecimalField(default=0, max_digits=10, decimal_places=2)),
                ('reminded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'bookings_booking', 'app': 'bookings', 'indexes': [Index(fields=['item_id', 'starts_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WaitingListEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('item', fields.ForeignKeyField('fabcom.Item', source_field='item_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('fabcom.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('notified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'bookings_waiting_list_entry', 'app': 'bookings', 'pk_attr': 'id', 'table_description': 'Someone who wanted a slot that was taken, told when it frees up.'},
            bases=['Model'],
        ),
    ]
