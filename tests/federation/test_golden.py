"""Golden JSON of every document fabcom emits, and of what it makes of documents it
receives. A change of vocabulary shows up as a diff of tests/federation/golden/;
regenerate with ``FABCOM_UPDATE_GOLDEN=1 pytest tests/federation/test_golden.py`` and
review the diff (other servers depend on these shapes)."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fabcom.federation import exchanges, vocab
from fabcom.federation.handlers import Sender
from fabcom.federation.mirror import rows_from
from fabcom.federation.mirror_models import FederatedExchange
from fabcom.federation.models import Audience

GOLDEN = Path(__file__).parent / "golden"
A = "https://a.example"
A_ACTOR = f"{A}/ap/o/recyclerie-a"
B_ACTOR = "https://b.example/ap/o/fablab-b"
T0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 11, 2, 15, 30, 12, 345678, tzinfo=dt.UTC)


def check(name: str, document: Any) -> None:
    path = GOLDEN / name
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n"
    if os.environ.get("FABCOM_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{name} is missing: run with FABCOM_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed: regenerate and review it"


def item(audience: Audience = Audience.PARTNERS, **kw: Any) -> dict:
    values: dict[str, Any] = {
        "pk": 42,
        "actor": A_ACTOR,
        "title": "Chaise en chêne",
        "description": "Solide, à revernir.\n\nVenir avec une voiture <grande>.",
        "category_code": "C_15",
        "quantity_value": Decimal("4.000"),
        "unit": "piece",
        "condition": "fair",
        "status": "available",
        "sharing_modes": ["lend", "give"],
        "audience": audience,
        "published": T0,
        "updated": T1,
        "base": A,
    }
    values.update(kw)
    return vocab.item_object(**values)


def activity(kind: str, obj: Any, audience: Audience = Audience.PARTNERS, **kw: Any) -> dict:
    return vocab.activity(
        kind,
        actor=kw.pop("actor", A_ACTOR),
        obj=obj,
        audience=audience,
        published=T1,
        activity_uri=f"{A}/ap/activities/00000000-0000-4000-8000-000000000001",
        base=A,
        **kw,
    )


# --- emitted ----------------------------------------------------------------------------------------


def test_the_context_document():
    check("context.jsonld", vocab.CONTEXT_DOCUMENT)


def test_item_activities():
    check("create_item_partners.json", activity("Create", item()))
    public = item(Audience.PUBLIC, image_url=f"{A}/photos/7", sharing_modes=[])
    check("update_item_public.json", activity("Update", public, Audience.PUBLIC))
    bulk = item(
        title="Vis à bois", unit="kg", quantity_value=Decimal("12.500"), category_code=None, sharing_modes=["sell"]
    )
    check("create_item_bulk_kg.json", activity("Create", bulk))
    check("delete_item.json", activity("Delete", vocab.tombstone(f"{A}/ap/items/42", "Page", T1)))


def test_project_activities():
    project = vocab.project_object(
        pk=5,
        actor=A_ACTOR,
        title="Atelier vélo solidaire",
        summary="Réparer ensemble",
        description="Chaque samedi.",
        status="active",
        licence="CC-BY-SA-4.0",
        starts_on=dt.date(2026, 9, 1),
        ends_on=dt.date(2027, 6, 30),
        needs=[
            {"id": 1, "category_code": "C_15", "skill": "", "quantity": Decimal(2), "unit": "piece"},
            {"id": 2, "category_code": None, "skill": "soudure", "quantity": Decimal(1), "unit": "piece"},
        ],
        audience=Audience.PUBLIC,
        published=T0,
        updated=T1,
        base=A,
    )
    check("create_project.json", activity("Create", project, Audience.PUBLIC))
    check("delete_project.json", activity("Delete", vocab.tombstone(f"{A}/ap/projects/5", "Page", T1)))


def test_member_profile_activities():
    profile = vocab.member_profile(
        token="m6L0dy1s5Q9k2vXcRt8Aa3Zf",
        actor=A_ACTOR,
        display_name="Camille Martin",
        organization_name="Recyclerie A",
        valid_from=dt.date(2026, 1, 15),
        valid_until=dt.date(2026, 12, 31),
        updated=T1,
        base=A,
    )
    check("create_member_profile.json", activity("Create", profile))
    tomb = vocab.tombstone(f"{A}/ap/members/m6L0dy1s5Q9k2vXcRt8Aa3Zf", "Profile", T1)
    check("delete_member_profile.json", activity("Delete", tomb))


def test_exchange_activities(monkeypatch):
    agreement = vocab.agreement_object(
        uri=f"{A}/ap/agreements/00000000-0000-4000-8000-0000000000aa",
        actor=A_ACTOR,
        item_uri="https://b.example/ap/items/9",
        kind="borrow",
        quantity_value=Decimal(1),
        unit="piece",
        message="Pour l'atelier de samedi.",
        due_back_on=dt.date(2026, 11, 30),
    )
    check("offer_agreement.json", activity("Offer", agreement, Audience.DIRECT, recipients=[B_ACTOR]))

    # The answers, as the owner's side builds them (its own base, fixed id and time).
    monkeypatch.setattr(vocab, "base_url", lambda: "https://b.example")
    monkeypatch.setattr(vocab, "new_activity_id", lambda base=None: "https://b.example/ap/activities/answer")
    monkeypatch.setattr(exchanges.clock, "now", lambda: T1)
    exchange = FederatedExchange(agreement_uri=agreement["id"], offer_uri=f"{A}/ap/activities/offer")
    for kind, extra, name in (
        ("Accept", {}, "accept_agreement.json"),
        ("Reject", {}, "reject_agreement.json"),
        ("Update", {"exchangeStatus": "handed_over"}, "update_agreement_handed_over.json"),
        ("Update", {"exchangeStatus": "returned"}, "update_agreement_returned.json"),
    ):
        check(name, exchanges._agreement_activity(kind, exchange, B_ACTOR, A_ACTOR, **extra))
    cancel = exchanges._agreement_activity("Update", exchange, A_ACTOR, B_ACTOR, exchangeStatus="cancelled")
    check("update_agreement_cancelled.json", cancel)


# --- received ---------------------------------------------------------------------------------------


RECEIVED = sorted(p.name for p in GOLDEN.glob("received_*.json") if not p.name.endswith(".parsed.json"))


@pytest.mark.parametrize("name", RECEIVED)
def test_received_documents_are_read_as_recorded(name, caplog):
    case = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    sender = Sender(actor_uri=case["sender"], organization_id=1)

    rows, others = rows_from([case["activity"]], sender)

    found: dict[str, Any] = {kind: [_stable(r) for r in by_uri.values()] for kind, by_uri in rows.items() if by_uri}
    found["left_to_other_handlers"] = len(others)
    found["log"] = [r.getMessage() for r in caplog.records if r.name.startswith("fabcom.federation")]
    check(name.replace(".json", ".parsed.json"), found)


def _stable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("received_at", "document")}
