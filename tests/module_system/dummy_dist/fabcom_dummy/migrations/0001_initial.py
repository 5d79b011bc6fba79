from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="DummyThing",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(max_length=50)),
            ],
            options={
                "table": "dummy_thing",
                "app": "dummy",
                "pk_attr": "id",
                "table_description": "A thing, to show that a module has its own table.",
            },
            bases=["Model"],
        ),
    ]
