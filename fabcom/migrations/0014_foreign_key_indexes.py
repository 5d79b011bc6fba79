from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0013_fed_ed25519')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='ApiToken',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='Attachment',
            index=Index(fields=['project_id']),
        ),
        ops.AddIndex(
            model_name='Attachment',
            index=Index(fields=['item_id']),
        ),
        ops.AddIndex(
            model_name='AuditEntry',
            index=Index(fields=['organization_id']),
        ),
        ops.AddIndex(
            model_name='ExchangeRequest',
            index=Index(fields=['requester_organization_id']),
        ),
        ops.AddIndex(
            model_name='ExchangeRequest',
            index=Index(fields=['owner_organization_id']),
        ),
        ops.AddIndex(
            model_name='ExchangeRequest',
            index=Index(fields=['item_id']),
        ),
        ops.AddIndex(
            model_name='Item',
            index=Index(fields=['location_id']),
        ),
        ops.AddIndex(
            model_name='Item',
            index=Index(fields=['category_id']),
        ),
        ops.AddIndex(
            model_name='Membership',
            index=Index(fields=['organization_id']),
        ),
        ops.AddIndex(
            model_name='MembershipFee',
            index=Index(fields=['membership_id']),
        ),
        ops.AddIndex(
            model_name='Participant',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='Partnership',
            index=Index(fields=['partner_id']),
        ),
        ops.AddIndex(
            model_name='Project',
            index=Index(fields=['lead_organization_id']),
        ),
        ops.AddIndex(
            model_name='ProjectNeed',
            index=Index(fields=['project_id']),
        ),
        ops.AddIndex(
            model_name='Session',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='StockMovement',
            index=Index(fields=['item_id']),
        ),
        ops.AddIndex(
            model_name='Task',
            index=Index(fields=['project_id']),
        ),
        ops.AddIndex(
            model_name='WebhookDelivery',
            index=Index(fields=['endpoint_id']),
        ),
        ops.AddIndex(
            model_name='WebhookEndpoint',
            index=Index(fields=['organization_id']),
        ),
    ]
