from tortoise import migrations
from tortoise.migrations import operations as ops
from fabcom.members.models import Role
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0008_federation_mirror')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Invitation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(max_length=254)),
                ('role', fields.CharEnumField(default=Role.MEMBER, description='OWNER: owner\nADMIN: admin\nSTAFF: staff\nVOLUNTEER: volunteer\nMEMBER: member', enum_type=Role, max_length=12)),
                ('locale', fields.CharField(default='fr', max_length=5)),
                ('invited_by', fields.ForeignKeyField('fabcom.User', source_field='invited_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('token_hash', fields.CharField(null=True, unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('send_count', fields.IntField(default=0)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('accepted_by', fields.ForeignKeyField('fabcom.User', source_field='accepted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fabcom_invitation', 'app': 'fabcom', 'indexes': [Index(fields=['organization_id', 'email'])], 'pk_attr': 'id', 'table_description': 'An invitation to join an organization sent to an e-mail address. Only the SHA-256'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Item',
            index=Index(fields=['organization_id', 'updated_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Item',
            index=Index(fields=['organization_id', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Item',
            index=Index(fields=['organization_id', 'title', 'id']),
        ),
    ]
