"""A federation handler: the dummy module takes ``Announce`` activities of dummy things."""

from fabcom.api import Activity, Sender, handles

# What the handler received, for the tests to read.
received: list[tuple[str, int]] = []


@handles("Announce")
async def announce_dummy(activity: Activity, sender: Sender) -> bool:
    obj = activity.get("object")
    if not isinstance(obj, dict) or obj.get("type") != "DummyThing":
        return False
    received.append((str(obj.get("name", "")), sender.organization_id))
    return True
