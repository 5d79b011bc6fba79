from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0011_module_switch')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='ActorKey',
            options={'table': 'fabcom_actor_key', 'app': 'fabcom', 'pk_attr': 'id', 'table_description': 'The keys of a local actor: ``owner`` is ``org:<id>`` for an organization,'},
        ),
        ops.AddField(
            model_name='ActorKey',
            name='ed25519_private_key_pem',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddField(
            model_name='ActorKey',
            name='ed25519_public_multibase',
            field=fields.CharField(default='', max_length=100),
        ),
    ]
