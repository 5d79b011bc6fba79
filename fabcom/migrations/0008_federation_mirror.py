from tortoise import migrations
from tortoise.migrations import operations as ops
from fabcom.federation.mirror_models import ExchangeDirection
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('fabcom', '0007_federation_transport')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MirrorItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uri', fields.CharField(unique=True, max_length=500)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('content', fields.TextField(default='', unique=False)),
                ('search_text', fields.TextField(default='', unique=False)),
                ('category_code', fields.CharField(null=True, max_length=40)),
                ('quantity', fields.DecimalField(default=0, max_digits=14, decimal_places=3)),
                ('unit', fields.CharField(default='piece', max_length=8)),
                ('condition', fields.CharField(default='', max_length=20)),
                ('status', fields.CharField(default='available', max_length=20)),
                ('sharing_modes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('visibility', fields.CharField(default='partners', max_length=10)),
                ('url', fields.CharField(default='', max_length=500)),
                ('image_url', fields.CharField(default='', max_length=500)),
                ('remote_updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('document', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fabcom_mirror_item', 'app': 'fabcom', 'indexes': [Index(fields=['organization_id', 'title']), Index(fields=['category_code', 'title'])], 'pk_attr': 'id', 'table_description': 'An item a partner shares (its ``Page`` with its ``EconomicResource``).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FederatedExchange',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agreement_uri', fields.CharField(unique=True, max_length=500)),
                ('offer_uri', fields.CharField(max_length=500)),
                ('direction', fields.CharEnumField(description='OUTGOING: outgoing\nINCOMING: incoming', enum_type=ExchangeDirection, max_length=8)),
                ('local_organization', fields.ForeignKeyField('fabcom.Organization', source_field='local_organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('remote_organization', fields.ForeignKeyField('fabcom.Organization', source_field='remote_organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('exchange_request', fields.ForeignKeyField('fabcom.ExchangeRequest', source_field='exchange_request_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('mirror_item', fields.ForeignKeyField('fabcom.MirrorItem', source_field='mirror_item_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('item_uri', fields.CharField(max_length=500)),
                ('item_title', fields.CharField(max_length=200)),
                ('kind', fields.CharField(max_length=8)),
                ('quantity', fields.DecimalField(max_digits=14, decimal_places=3)),
                ('unit', fields.CharField(default='piece', max_length=8)),
                ('message', fields.CharField(default='', max_length=1000)),
                ('status', fields.CharField(default='pending', max_length=12)),
                ('due_back_on', fields.DateField(null=True)),
                ('requested_by', fields.ForeignKeyField('fabcom.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('received_item', fields.ForeignKeyField('fabcom.Item', source_field='received_item_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'fabcom_federated_exchange', 'app': 'fabcom', 'pk_attr': 'id', 'table_description': "An exchange across sites, one row on each side, linked by the agreement's id."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='MirrorMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uri', fields.CharField(unique=True, max_length=500)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('display_name', fields.CharField(max_length=120)),
                ('search_text', fields.CharField(default='', max_length=120)),
                ('valid_from', fields.DateField(null=True)),
                ('valid_until', fields.DateField(null=True)),
                ('remote_updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('document', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fabcom_mirror_member', 'app': 'fabcom', 'indexes': [Index(fields=['organization_id', 'search_text'])], 'pk_attr': 'id', 'table_description': "A partner's member who consented to be recognised by its partners: display name,"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MirrorProject',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uri', fields.CharField(unique=True, max_length=500)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('summary', fields.CharField(default='', max_length=500)),
                ('content', fields.TextField(default='', unique=False)),
                ('search_text', fields.TextField(default='', unique=False)),
                ('status', fields.CharField(default='', max_length=20)),
                ('visibility', fields.CharField(default='partners', max_length=10)),
                ('url', fields.CharField(default='', max_length=500)),
                ('remote_updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('document', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fabcom_mirror_project', 'app': 'fabcom', 'indexes': [Index(fields=['organization_id', 'title'])], 'pk_attr': 'id', 'table_description': 'A project a partner shares (its ``Page`` with its ``Plan``).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MirrorTombstone',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uri', fields.CharField(unique=True, max_length=500)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('deleted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fabcom_mirror_tombstone', 'app': 'fabcom', 'pk_attr': 'id', 'table_description': 'A mirrored object the partner deleted (or stopped sharing), and when: a late or'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SharedProfile',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('fabcom.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('fabcom.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('token', fields.CharField(unique=True, max_length=40)),
            ],
            options={'table': 'fabcom_shared_profile', 'app': 'fabcom', 'unique_together': (('user', 'organization'),), 'pk_attr': 'id', 'table_description': "A member's consent to be recognised by their organization's partners. The row"},
            bases=['TimestampedModel'],
        ),
    ]
