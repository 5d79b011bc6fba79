from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0003_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LoginAttempt',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ip_address', fields.CharField(max_length=45)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fabcom_login_attempt', 'app': 'fabcom', 'indexes': [Index(fields=['ip_address', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One login attempt from an address, kept for the rate limit (old rows are pruned).'},
            bases=['Model'],
        ),
    ]
