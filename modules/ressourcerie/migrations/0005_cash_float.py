from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0016_mirror_search_fold'), ('ressourcerie', '0004_foreign_key_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CashClosing',
            name='cash_float',
            field=fields.DecimalField(null=True, max_digits=10, decimal_places=2),
        ),
    ]
