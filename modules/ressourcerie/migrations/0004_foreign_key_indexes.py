from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0014_foreign_key_indexes'), ('ressourcerie', '0003_remote_figures')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='IntakeLine',
            index=Index(fields=['intake_id']),
        ),
        ops.AddIndex(
            model_name='OutflowLine',
            index=Index(fields=['outflow_id']),
        ),
        ops.AddIndex(
            model_name='RemoteFigures',
            index=Index(fields=['organization_id']),
        ),
        ops.AddIndex(
            model_name='Sale',
            index=Index(fields=['closing_id']),
        ),
        ops.AddIndex(
            model_name='SaleLine',
            index=Index(fields=['sale_id']),
        ),
    ]
