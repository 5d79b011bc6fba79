from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('bookings', '0003_foreign_key_indexes'), ('fabcom', '0017_taxonomy_accents')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Booking',
            name='partner_profile',
            field=fields.ForeignKeyField('fabcom.SharedProfile', source_field='partner_profile_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
    ]
