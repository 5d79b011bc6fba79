from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('bookings', '0002_partner_members'), ('fabcom', '0014_foreign_key_indexes')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Booking',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='Booking',
            index=Index(fields=['rule_id']),
        ),
        ops.AddIndex(
            model_name='BookingRule',
            index=Index(fields=['organization_id']),
        ),
        ops.AddIndex(
            model_name='WaitingListEntry',
            index=Index(fields=['item_id']),
        ),
        ops.AddIndex(
            model_name='WaitingListEntry',
            index=Index(fields=['user_id']),
        ),
    ]
