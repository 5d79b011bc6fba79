"""A dummy module, installed as its own distribution, that uses every contribution point
(the tests check that it appears when enabled and leaves nothing when disabled)."""

from pydantic_settings import BaseSettings

from fabcom.api import Module, Scope


class DummySettings(BaseSettings):
    """``FABCOM_DUMMY_*`` variables."""

    greeting: str = "hello"


module = Module(
    slug="dummy",
    name="Dummy",
    version="1.0.0",
    requires=">=0.1.0.dev0",
    permissions=("dummy.use",),
    scopes=(Scope("dummy:read", "Read the dummy things", "See the dummy things."),),
    settings=DummySettings,
)
