"""The dummy module's one table."""

from tortoise import fields
from tortoise.models import Model


class DummyThing(Model):
    """A thing, to show that a module has its own table."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50)

    class Meta:
        table = "dummy_thing"
