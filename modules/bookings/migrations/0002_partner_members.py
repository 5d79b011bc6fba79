from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('bookings', '0001_initial'), ('fabcom', '0011_module_switch')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='Booking',
            options={'table': 'bookings_booking', 'app': 'bookings', 'indexes': [Index(fields=['item_id', 'starts_at'])], 'pk_attr': 'id', 'table_description': 'An item booked (or lent) for a period: by a local account (``user``), or by the'},
        ),
        ops.AddField(
            model_name='Booking',
            name='for_partner_member',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Booking',
            name='partner_member',
            field=fields.ForeignKeyField('fabcom.MirrorMember', source_field='partner_member_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
    ]
