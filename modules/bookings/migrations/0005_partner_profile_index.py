from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('bookings', '0004_local_partner_members'), ('fabcom', '0017_taxonomy_accents')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Booking',
            index=Index(fields=['partner_profile_id']),
        ),
    ]
