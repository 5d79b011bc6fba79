from tortoise import migrations
from tortoise.migrations import operations as ops
from modules.ressourcerie.models import Destination, DonorKind, PaymentMode
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='CashClosing',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('totals', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('sales_count', fields.IntField(default=0)),
                ('cash_counted', fields.DecimalField(null=True, max_digits=10, decimal_places=2)),
                ('cash_difference', fields.DecimalField(null=True, max_digits=10, decimal_places=2)),
                ('closed_by', fields.ForeignKeyField('fabcom.User', source_field='closed_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ressourcerie_cash_closing', 'app': 'ressourcerie', 'unique_together': (('organization', 'day'),), 'pk_attr': 'id', 'table_description': 'The till closed for a day: totals per payment mode and the cash counted.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CollectionMode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(max_length=40)),
                ('label_fr', fields.CharField(max_length=80)),
                ('label_en', fields.CharField(max_length=80)),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'ressourcerie_collection_mode', 'app': 'ressourcerie', 'unique_together': (('organization', 'code'),), 'pk_attr': 'id', 'table_description': 'How things reached the ressourcerie. Each site configures its own list.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Intake',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('mode', fields.ForeignKeyField('ressourcerie.CollectionMode', source_field='mode_id', db_constraint=True, to_field='id', related_name='intakes', on_delete=OnDelete.RESTRICT)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('donor_kind', fields.CharEnumField(default=DonorKind.ANONYMOUS, description='ANONYMOUS: anonymous\nPERSON: person\nORGANIZATION: organization', enum_type=DonorKind, max_length=12)),
                ('donor_name', fields.CharField(default='', max_length=200)),
                ('donor_organization', fields.ForeignKeyField('fabcom.Organization', source_field='donor_organization_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('collection_point', fields.CharField(default='', max_length=200)),
                ('note', fields.CharField(default='', max_length=500)),
                ('author', fields.ForeignKeyField('fabcom.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ressourcerie_intake', 'app': 'ressourcerie', 'indexes': [Index(fields=['organization_id', 'occurred_at'])], 'pk_attr': 'id', 'table_description': 'One arrival (a drop-off, a collection round), weighed in one or more lines.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='IntakeLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('intake', fields.ForeignKeyField('ressourcerie.Intake', source_field='intake_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('category', fields.ForeignKeyField('fabcom.Category', source_field='category_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('gross_kg', fields.DecimalField(max_digits=10, decimal_places=3)),
                ('tare_kg', fields.DecimalField(default=0, max_digits=10, decimal_places=3)),
                ('net_kg', fields.DecimalField(max_digits=10, decimal_places=3)),
                ('item', fields.ForeignKeyField('fabcom.Item', source_field='item_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('author', fields.ForeignKeyField('fabcom.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ressourcerie_intake_line', 'app': 'ressourcerie', 'pk_attr': 'id', 'table_description': 'A weighing: gross weight as read on the scale, the tare taken off, net stored.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Outflow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('destination', fields.CharEnumField(description='SALE: sale\nPARTNER_GIFT: partner_gift\nRECYCLING: recycling\nWASTE: waste', enum_type=Destination, max_length=14)),
                ('buyer', fields.CharField(default='', max_length=200)),
                ('partner_organization', fields.ForeignKeyField('fabcom.Organization', source_field='partner_organization_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('note', fields.CharField(default='', max_length=500)),
                ('author', fields.ForeignKeyField('fabcom.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ressourcerie_outflow', 'app': 'ressourcerie', 'indexes': [Index(fields=['organization_id', 'occurred_at'])], 'pk_attr': 'id', 'table_description': 'Things leaving, by destination: the shop, a partner, a recycling channel, waste.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutflowLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('outflow', fields.ForeignKeyField('ressourcerie.Outflow', source_field='outflow_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('category', fields.ForeignKeyField('fabcom.Category', source_field='category_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('weight_kg', fields.DecimalField(max_digits=10, decimal_places=3)),
                ('item', fields.ForeignKeyField('fabcom.Item', source_field='item_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ressourcerie_outflow_line', 'app': 'ressourcerie', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReceiptCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.OneToOneField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('last_number', fields.IntField(default=0)),
            ],
            options={'table': 'ressourcerie_receipt_counter', 'app': 'ressourcerie', 'pk_attr': 'id', 'table_description': "The last receipt number of an organization's till. Incremented inside the sale's"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Sale',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('payment_mode', fields.CharEnumField(description='CASH: cash\nCARD: card\nCHEQUE: cheque\nLOCAL_CURRENCY: local_currency\nOTHER: other', enum_type=PaymentMode, max_length=16)),
                ('total', fields.DecimalField(max_digits=10, decimal_places=2)),
                ('cashier', fields.ForeignKeyField('fabcom.User', source_field='cashier_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('outflow', fields.ForeignKeyField('ressourcerie.Outflow', source_field='outflow_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('closing', fields.ForeignKeyField('ressourcerie.CashClosing', source_field='closing_id', null=True, db_constraint=True, to_field='id', related_name='sales', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ressourcerie_sale', 'app': 'ressourcerie', 'unique_together': (('organization', 'number'),), 'pk_attr': 'id', 'table_description': 'A till receipt. ``number`` runs per organization: receipts are numbered without gaps.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SaleLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sale', fields.ForeignKeyField('ressourcerie.Sale', source_field='sale_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('item', fields.ForeignKeyField('fabcom.Item', source_field='item_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('category', fields.ForeignKeyField('fabcom.Category', source_field='category_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('label', fields.CharField(max_length=200)),
                ('quantity', fields.DecimalField(default=1, max_digits=10, decimal_places=3)),
                ('weight_kg', fields.DecimalField(null=True, max_digits=10, decimal_places=3)),
                ('amount', fields.DecimalField(max_digits=10, decimal_places=2)),
            ],
            options={'table': 'ressourcerie_sale_line', 'app': 'ressourcerie', 'pk_attr': 'id', 'table_description': 'A weighed lot (a category and a weight) or an inventory item.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tare',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=80)),
                ('weight_kg', fields.DecimalField(max_digits=8, decimal_places=3)),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'ressourcerie_tare', 'app': 'ressourcerie', 'unique_together': (('organization', 'name'),), 'pk_attr': 'id', 'table_description': 'A container weighed with what it holds (a crate, a trolley): its weight is taken off.'},
            bases=['Model'],
        ),
    ]
