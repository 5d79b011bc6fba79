from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0010_invitations')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OrganizationModule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('module', fields.CharField(max_length=31)),
                ('enabled', fields.BooleanField(default=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'fabcom_organization_module', 'app': 'fabcom', 'unique_together': (('organization', 'module'),), 'pk_attr': 'id', 'table_description': "An organization's choice for one module. No row means the module's default: on."},
            bases=['Model'],
        ),
    ]
