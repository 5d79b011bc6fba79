"""The ressourcerie through GraphQL over HTTP with a bearer token: recording intakes,
outflows and sales, the connections, the report, typed refusals, and another
organization's token seeing nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from fabcom.api import global_id
from fabcom.auth.models import User
from fabcom.auth.services import create_api_token
from fabcom.inventory.models import Item
from fabcom.inventory.services import create_item
from fabcom.permissions import SCOPES, system_principal
from modules.ressourcerie.models import CollectionMode, Intake, Outflow, Sale, Tare
from modules.ressourcerie.services import add_tare, ensure_collection_modes

EXAMPLE = (Path(__file__).resolve().parents[3] / "graphql" / "examples" / "ressourcerie_day.graphql").read_text()
INTAKE = """
mutation($input: RessourcerieIntakeRecordInput!) {
  ressourcerieIntakeRecord(input: $input) {
    intake { id modeCode netKg lines { categoryCode grossKg tareKg netKg } }
    errors { field message code }
  }
}"""
OUTFLOW = """
mutation($input: RessourcerieOutflowRecordInput!) {
  ressourcerieOutflowRecord(input: $input) {
    outflow { destination partnerOrganizationSlug weightKg lines { categoryCode repChannel weightKg } }
    errors { field message code }
  }
}"""
SALE = """
mutation($input: RessourcerieSaleRecordInput!) {
  ressourcerieSaleRecord(input: $input) { sale { number total paymentMode } errors { field message code } }
}"""
LISTS = """
query($site: String!, $after: String) {
  ressourcerieIntakes(siteSlug: $site, first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { netKg modeCode } }
  }
  ressourcerieOutflows(siteSlug: $site, first: 10) { totalCount edges { node { destination weightKg } } }
  ressourcerieReport(period: "2026", siteSlug: $site) { kgIn }
}"""


@pytest.fixture
async def gql(client):
    async def run(query, variables=None, *, principal=None, locale="en"):
        headers = {"Accept-Language": locale}
        if principal is not None:
            _token, secret = await create_api_token(
                system_principal(), principal.user_id, {"name": "test", "scopes": list(SCOPES)}
            )
            headers["Authorization"] = f"Bearer {secret}"
        response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert "errors" not in body, body.get("errors")
        return body["data"]

    return run


async def test_a_day_recorded_through_the_api_and_its_report(gql, org_a, org_b, staff_a):
    crate = await add_tare(staff_a, org_a.id, {"name": "Caisse", "weight_kg": "2.5"})
    lamp = await create_item(
        staff_a, org_a.id, {"title": "Lampe", "category_code": "C_17", "initial_quantity": "1", "unit_value": "9"}
    )
    # 30 kg of furniture + 12.5 − 2.5 kg of clothes = 40 kg in
    done = await gql(
        INTAKE,
        {
            "input": {
                "siteSlug": org_a.slug,
                "modeCode": "apport_volontaire",
                "lines": [
                    {"categoryCode": "C_15", "grossKg": "30"},
                    {"categoryCode": "C_22", "grossKg": "12.5", "tareId": crate.id},
                ],
            }
        },
        principal=staff_a,
    )
    assert done["ressourcerieIntakeRecord"]["errors"] == []
    intake = done["ressourcerieIntakeRecord"]["intake"]
    assert (intake["modeCode"], Decimal(intake["netKg"])) == ("apport_volontaire", Decimal("40"))
    assert [Decimal(line["tareKg"]) for line in intake["lines"]] == [Decimal(0), Decimal("2.5")]
    gift = await gql(
        OUTFLOW,
        {
            "input": {
                "siteSlug": org_a.slug,
                "destination": "PARTNER_GIFT",
                "partnerOrganizationSlug": org_b.slug,
                "lines": [{"categoryCode": "C_15", "weightKg": "6"}],
            }
        },
        principal=staff_a,
    )
    assert gift["ressourcerieOutflowRecord"]["outflow"]["partnerOrganizationSlug"] == org_b.slug
    sale = await gql(
        SALE,
        {
            "input": {
                "siteSlug": org_a.slug,
                "paymentMode": "CARD",
                "lines": [
                    {"itemId": global_id("Item", lamp.id), "amount": "9"},
                    {"categoryCode": "C_22", "weightKg": "4", "amount": "8.50"},
                ],
            }
        },
        principal=staff_a,
    )
    assert sale["ressourcerieSaleRecord"] == {
        "sale": {"number": 1, "total": "17.50", "paymentMode": "CARD"},
        "errors": [],
    }
    today = dt.date.today()
    report = (
        await gql(
            EXAMPLE,
            {"organization": org_a.slug, "period": f"{today - dt.timedelta(days=1)}/{today + dt.timedelta(days=1)}"},
            principal=staff_a,
        )
    )["ressourcerieReport"]
    # re-use: 6 kg given + 4 kg sold = 10 kg of 40 → 25 %; no recycling → also 25 %
    assert (Decimal(report["kgIn"]), report["reuseRate"], report["recoveryRate"]) == (Decimal("40"), "25.0", "25.0")
    assert report["kgOutByDestination"] == [
        {"key": "partner_gift", "value": "6.000"},
        {"key": "sale", "value": "4.000"},
    ]
    assert report["revenue"] == "17.50"
    assert (await Item.get(id=lamp.id)).quantity == 0


async def test_refusals_are_typed_and_write_nothing(gql, org_a, staff_a):
    lamp = await create_item(staff_a, org_a.id, {"title": "Lampe", "initial_quantity": "1"})
    bad = await gql(
        INTAKE,
        {
            "input": {
                "siteSlug": org_a.slug,
                "modeCode": "apport_volontaire",
                "lines": [{"categoryCode": "C_15", "grossKg": "12"}, {"categoryCode": "C_15", "grossKg": "-3"}],
            }
        },
        principal=staff_a,
        locale="fr",
    )
    assert bad["ressourcerieIntakeRecord"]["intake"] is None
    assert [(e["field"], e["code"]) for e in bad["ressourcerieIntakeRecord"]["errors"]] == [
        ("lines.1.grossKg", "OUT_OF_RANGE")
    ]
    assert await Intake.all().count() == 0
    sell = {"input": {"siteSlug": org_a.slug, "paymentMode": "CASH", "lines": [{"itemId": global_id("Item", lamp.id), "amount": "5"}]}}  # fmt: skip
    assert (await gql(SALE, sell, principal=staff_a))["ressourcerieSaleRecord"]["errors"] == []
    again = (await gql(SALE, sell, principal=staff_a, locale="fr"))["ressourcerieSaleRecord"]
    assert again["errors"] == [
        {
            "field": "lines.0.itemId",
            "message": "Lampe est déjà vendu ou en rupture de stock.",
            "code": "INSUFFICIENT_STOCK",
        }
    ]
    assert await Sale.all().count() == 1


async def test_connections_page_through_intakes(gql, org_a, staff_a):
    for kg in ("1", "2", "3"):
        await gql(
            INTAKE,
            {
                "input": {
                    "siteSlug": org_a.slug,
                    "modeCode": "decheterie",
                    "lines": [{"categoryCode": "C_16", "grossKg": kg}],
                }
            },
            principal=staff_a,
        )
    first = (await gql(LISTS, {"site": org_a.slug}, principal=staff_a))["ressourcerieIntakes"]
    assert first["totalCount"] == 3
    assert [e["node"]["netKg"] for e in first["edges"]] == ["3.000", "2.000"]
    rest = await gql(LISTS, {"site": org_a.slug, "after": first["pageInfo"]["endCursor"]}, principal=staff_a)
    assert [e["node"]["netKg"] for e in rest["ressourcerieIntakes"]["edges"]] == ["1.000"]
    assert rest["ressourcerieIntakes"]["pageInfo"]["hasNextPage"] is False


async def test_another_organizations_token_sees_and_writes_nothing(gql, org_a, staff_a, staff_b):
    await gql(
        INTAKE,
        {
            "input": {
                "siteSlug": org_a.slug,
                "modeCode": "decheterie",
                "lines": [{"categoryCode": "C_16", "grossKg": "5"}],
            }
        },
        principal=staff_a,
    )
    seen = await gql(LISTS, {"site": org_a.slug}, principal=staff_b)
    assert seen["ressourcerieIntakes"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [],
    }
    assert seen["ressourcerieOutflows"]["edges"] == []
    assert seen["ressourcerieReport"] is None
    anonymous = await gql(LISTS, {"site": org_a.slug})
    assert (anonymous["ressourcerieIntakes"]["totalCount"], anonymous["ressourcerieReport"]) == (0, None)
    refused = await gql(
        OUTFLOW,
        {
            "input": {
                "siteSlug": org_a.slug,
                "destination": "WASTE",
                "lines": [{"categoryCode": "C_16", "weightKg": "5"}],
            }
        },
        principal=staff_b,
    )
    assert [e["code"] for e in refused["ressourcerieOutflowRecord"]["errors"]] == ["PERMISSION_DENIED"]
    unknown = await gql(
        OUTFLOW,
        {
            "input": {
                "siteSlug": "nowhere",
                "destination": "WASTE",
                "lines": [{"categoryCode": "C_16", "weightKg": "5"}],
            }
        },
        principal=staff_b,
    )
    assert [e["code"] for e in unknown["ressourcerieOutflowRecord"]["errors"]] == ["PERMISSION_DENIED"]
    assert await Outflow.all().count() == 0
    assert await Intake.all().count() == 1


async def test_lists_within_a_period(gql, org_a, staff_a):
    await gql(
        OUTFLOW,
        {
            "input": {
                "siteSlug": org_a.slug,
                "destination": "WASTE",
                "occurredAt": "2025-03-14T10:00:00+01:00",
                "lines": [{"categoryCode": "C_16", "weightKg": "5"}],
            }
        },
        principal=staff_a,
    )
    query = """query($site: String!, $period: String) {
      ressourcerieOutflows(siteSlug: $site, period: $period, first: 5) { totalCount edges { node { weightKg } } }
    }"""
    counts = {}
    for period in ("2025", "2025-03", "2025-03-14", "2025-04"):
        found = await gql(query, {"site": org_a.slug, "period": period}, principal=staff_a)
        counts[period] = found["ressourcerieOutflows"]["totalCount"]
    assert counts == {"2025": 1, "2025-03": 1, "2025-03-14": 1, "2025-04": 0}


@pytest.mark.parametrize("period", ["2025-13", "", "0001", "9999", "2026-W10", "２０２６", "2026-03-01/0001-01-01"])
async def test_a_period_that_cannot_be_read_is_an_error_saying_how_to_write_one(client, org_a, staff_a, period):
    _token, secret = await create_api_token(system_principal(), staff_a.user_id, {"name": "t", "scopes": list(SCOPES)})
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "fr"}
    for query in (
        "query($site: String!, $period: String!) { ressourcerieReport(period: $period, siteSlug: $site) { kgIn } }",
        "query($site: String!, $period: String) { ressourcerieOutflows(siteSlug: $site, period: $period, first: 5) { totalCount } }",
    ):
        body = (
            await client.post(
                "/graphql", json={"query": query, "variables": {"site": org_a.slug, "period": period}}, headers=headers
            )
        ).json()
        if period == "" and "Outflows" in query:  # no period: the list's whole history (the report needs one)
            assert "errors" not in body, body
            continue
        messages = [e["message"] for e in body["errors"]]
        assert any(m.startswith("Indiquez la période par une année") or "se termine avant" in m for m in messages), (
            period,
            body,
        )
        assert "INTERNAL_SERVER_ERROR" not in [e["extensions"]["code"] for e in body["errors"]]


async def test_a_site_slug_holding_a_nul_byte_is_an_unknown_site_not_a_server_error(gql, staff_a):
    """Found by the GraphQL fuzz test: PostgreSQL refuses NUL bytes, so such a slug is not looked up."""
    for slug in ("a\x00b", "x" * 500):
        answer = await gql(
            OUTFLOW,
            {"input": {"siteSlug": slug, "destination": "WASTE", "lines": [{"categoryCode": "C_16", "weightKg": "5"}]}},
            principal=staff_a,
        )
        assert [e["code"] for e in answer["ressourcerieOutflowRecord"]["errors"]] == ["PERMISSION_DENIED"]
        listed = await gql(LISTS, {"site": slug}, principal=staff_a)
        assert listed["ressourcerieIntakes"]["totalCount"] == 0


async def test_a_token_without_the_inventory_scopes_is_told_which_it_lacks(client, org_a, staff_a):
    """A staff member's token with only ``projects:read``: the site's figures and records
    are refused with the scope named (not answered as if the site had none), and nothing
    is written."""
    _token, secret = await create_api_token(
        system_principal(), staff_a.user_id, {"name": "projets", "scopes": ["projects:read"]}
    )
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "fr"}
    for field, selection in [
        ("ressourcerieIntakes", "ressourcerieIntakes(siteSlug: $site, first: 2) { totalCount }"),
        ("ressourcerieOutflows", "ressourcerieOutflows(siteSlug: $site, first: 2) { totalCount }"),
        ("ressourcerieReport", 'ressourcerieReport(period: "2026", siteSlug: $site) { kgIn }'),
    ]:
        query = "query($site: String!) { " + selection + " }"
        answer = await client.post(
            "/graphql", json={"query": query, "variables": {"site": org_a.slug}}, headers=headers
        )
        errors = answer.json()["errors"]
        assert [(e["extensions"]["code"], e["path"]) for e in errors] == [("INSUFFICIENT_SCOPE", [field])]
        assert "« inventory:read »" in errors[0]["message"]
    variables = {
        "input": {"siteSlug": org_a.slug, "modeCode": "decheterie", "lines": [{"categoryCode": "C_16", "grossKg": "5"}]}
    }
    body = (await client.post("/graphql", json={"query": INTAKE, "variables": variables}, headers=headers)).json()
    assert [e["code"] for e in body["data"]["ressourcerieIntakeRecord"]["errors"]] == ["INSUFFICIENT_SCOPE"]
    assert await Intake.filter(organization_id=org_a.id).count() == 0


async def test_a_refused_period_is_answered_in_the_callers_language_from_a_message_id(client, org_a, staff_a):
    """The module hands the API a message id and its parameters, never a text already
    translated: each caller reads the refusal in their own language, and the error itself
    stays English (logs, direct schema calls)."""
    from fabcom.api import PublicError
    from modules.ressourcerie.schema import _period

    query = 'query($site: String!) { ressourcerieReport(period: "2026-03-31/2026-03-01", siteSlug: $site) { kgIn } }'
    answers = {}
    for locale in ("fr", "en"):  # a token speaks its user's language
        await User.filter(id=staff_a.user_id).update(locale=locale)
        _token, secret = await create_api_token(
            system_principal(), staff_a.user_id, {"name": locale, "scopes": list(SCOPES)}
        )
        body = (
            await client.post(
                "/graphql",
                json={"query": query, "variables": {"site": org_a.slug}},
                headers={"Authorization": f"Bearer {secret}"},
            )
        ).json()
        answers[locale] = [(e["message"], e["extensions"]["code"]) for e in body["errors"]]
    assert answers == {
        "fr": [("La période se termine avant de commencer.", "OUT_OF_RANGE")],
        "en": [("The period ends before it starts.", "OUT_OF_RANGE")],
    }

    with pytest.raises(PublicError) as refused:
        _period("2026-13")
    assert refused.value.message_id.startswith("Give a period as a year (2026)")
    assert refused.value.message == refused.value.message_id  # English, whoever asked
    assert refused.value.text("fr").startswith("Indiquez la période par une année (2026)")


async def raw(client, query, variables=None, *, principal=None, scopes=None, locale="fr"):
    """The whole answer (``data`` and top-level ``errors``) to a token of ``principal``."""
    headers = {"Accept-Language": locale}
    if principal is not None:
        _token, secret = await create_api_token(
            system_principal(), principal.user_id, {"name": "raw", "scopes": list(scopes or SCOPES)}
        )
        headers["Authorization"] = f"Bearer {secret}"
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code == 200
    return response.json()


VALUES = """query($org: String!) {
  ressourcerieCollectionModes(organizationSlug: $org) { code label labelFr labelEn }
  ressourcerieContainers(organizationSlug: $org) { id name weightKg }
}"""


async def test_the_valid_collection_modes_and_containers_can_be_listed(gql, client, org_a, staff_a, staff_b):
    """A partner's tool lists the values ``modeCode`` and ``containerId`` take, for the
    site it records on; another organization sees none, as for a site that does not exist."""
    # given a site that has recorded nothing yet, with one container and one put away
    crate = await add_tare(staff_a, org_a.id, {"name": "Caisse", "weight_kg": "2.5"})
    old = await add_tare(staff_a, org_a.id, {"name": "Vieux bac", "weight_kg": "9"})
    await Tare.filter(id=old.id).update(active=False)

    # when its staff's token asks, in English
    found = await gql(VALUES, {"org": org_a.slug}, principal=staff_a)

    # then the sector's usual modes, in the site's order, and its container in use
    modes = found["ressourcerieCollectionModes"]
    assert [m["code"] for m in modes] == [
        "apport_volontaire",
        "collecte_domicile",
        "decheterie",
        "pied_immeuble",
        "entreprise",
        "brocante",
        "autre",
    ]
    assert modes[0] == {
        "code": "apport_volontaire",
        "label": "Drop-off",
        "labelFr": "Apport volontaire",
        "labelEn": "Drop-off",
    }
    assert found["ressourcerieContainers"] == [
        {"id": global_id("RessourcerieContainer", crate.id), "name": "Caisse", "weightKg": "2.500"}
    ]
    assert await CollectionMode.filter(organization_id=org_a.id).count() == 0  # a read writes nothing

    # a mode the site put away is no longer offered (and is refused)
    await ensure_collection_modes(org_a.id)
    await CollectionMode.filter(organization_id=org_a.id, code="brocante").update(active=False)
    again = await gql(VALUES, {"org": org_a.slug}, principal=staff_a, locale="fr")
    assert "brocante" not in [m["code"] for m in again["ressourcerieCollectionModes"]]
    assert again["ressourcerieCollectionModes"][0]["label"] == "Apport volontaire"

    # another organization's token, an unknown site: nothing
    for principal, slug in ((staff_b, org_a.slug), (staff_a, "nowhere")):
        seen = await gql(VALUES, {"org": slug}, principal=principal)
        assert seen == {"ressourcerieCollectionModes": [], "ressourcerieContainers": []}

    # a token without inventory:read is told which scope it lacks
    for field in ("ressourcerieCollectionModes", "ressourcerieContainers"):
        body = await raw(
            client,
            "query($org: String!) { " + field + "(organizationSlug: $org) { __typename } }",
            {"org": org_a.slug},
            principal=staff_a,
            scopes=["inventory:write"],
        )
        assert [(e["extensions"]["code"], e["path"]) for e in body["errors"]] == [("INSUFFICIENT_SCOPE", [field])]


async def test_an_intake_names_its_container_by_global_id_or_by_its_former_raw_id(gql, org_a, staff_a):
    crate = await add_tare(staff_a, org_a.id, {"name": "Caisse", "weight_kg": "2.5"})
    container = global_id("RessourcerieContainer", crate.id)

    def intake(*lines):
        return {"input": {"organizationSlug": org_a.slug, "modeCode": "decheterie", "lines": list(lines)}}

    # the global id, the former raw id, or both when they agree
    for line in (
        {"categoryCode": "C_22", "grossKg": "10", "containerId": container},
        {"categoryCode": "C_22", "grossKg": "10", "tareId": crate.id},
        {"categoryCode": "C_22", "grossKg": "10", "tareId": crate.id, "containerId": container},
    ):
        done = (await gql(INTAKE, intake(line), principal=staff_a))["ressourcerieIntakeRecord"]
        assert done["errors"] == []
        assert [Decimal(line["netKg"]) for line in done["intake"]["lines"]] == [Decimal("7.5")]

    # refusals name the field the client gave
    refused = {}
    for name, line in {
        "not a container": {"containerId": global_id("Item", crate.id)},
        "malformed": {"containerId": "nonsense"},
        "unknown": {"containerId": global_id("RessourcerieContainer", crate.id + 100)},
        "disagree": {"containerId": container, "tareId": crate.id + 100},
        "too heavy": {"containerId": container, "grossKg": "2"},
    }.items():
        answer = await gql(
            INTAKE,
            intake({"categoryCode": "C_16", "grossKg": "5", **line}),
            principal=staff_a,
            locale="fr",
        )
        assert answer["ressourcerieIntakeRecord"]["intake"] is None
        refused[name] = [(e["field"], e["code"], e["message"]) for e in answer["ressourcerieIntakeRecord"]["errors"]]
    unknown = [("lines.0.containerId", "INVALID", "Contenant inconnu.")]
    assert refused == {
        "not a container": unknown,
        "malformed": unknown,
        "unknown": unknown,
        "disagree": [("lines.0.containerId", "INVALID", "Donnez seulement containerId (tareId est son ancien nom).")],
        "too heavy": [("lines.0.containerId", "INVALID", "Le contenant (2,5 kg) pèse autant que la pesée, ou plus.")],
    }
    assert await Intake.all().count() == 3


async def test_lines_are_asked_for_with_their_limits(gql, org_a, staff_a):
    """An empty list of lines says how many are expected, on ``lines``."""
    answers = {}
    for query, name, extra in (
        (INTAKE, "ressourcerieIntakeRecord", {"modeCode": "decheterie"}),
        (OUTFLOW, "ressourcerieOutflowRecord", {"destination": "WASTE"}),
        (SALE, "ressourcerieSaleRecord", {"paymentMode": "CASH"}),
    ):
        variables = {"input": {"organizationSlug": org_a.slug, "lines": [], **extra}}
        answer = (await gql(query, variables, principal=staff_a, locale="fr"))[name]
        answers[name] = [(e["field"], e["code"], e["message"]) for e in answer["errors"]]
    assert answers == {
        "ressourcerieIntakeRecord": [("lines", "INVALID", "Donnez entre 1 et 100 lignes.")],
        "ressourcerieOutflowRecord": [("lines", "INVALID", "Donnez entre 1 et 100 lignes.")],
        "ressourcerieSaleRecord": [("lines", "INVALID", "Donnez entre 1 et 200 lignes.")],
    }
    assert (await Intake.all().count(), await Outflow.all().count(), await Sale.all().count()) == (0, 0, 0)


async def test_a_line_on_a_category_that_has_sub_categories_is_refused(gql, org_a, staff_a):
    """Streams are the taxonomy's sub-categories (C_01…C_28, with their REP channel):
    « Électroménager » holds three, which a line must choose from."""
    answer = await gql(
        INTAKE,
        {
            "input": {
                "organizationSlug": org_a.slug,
                "modeCode": "decheterie",
                "lines": [{"categoryCode": "C_03", "grossKg": "4"}, {"categoryCode": "appliances", "grossKg": "30"}],
            }
        },
        principal=staff_a,
        locale="fr",
    )
    assert answer["ressourcerieIntakeRecord"] == {
        "intake": None,
        "errors": [
            {
                "field": "lines.1.categoryCode",
                "code": "INVALID",
                "message": "Électroménager a des sous-catégories : pesez sur l’une d’elles"
                " (C_01 Gros électroménager (froid), C_02 Gros électroménager (hors froid), C_03 Petit électroménager).",
            }
        ],
    }
    outflow = await gql(
        OUTFLOW,
        {
            "input": {
                "organizationSlug": org_a.slug,
                "destination": "RECYCLING",
                "lines": [{"categoryCode": "furniture-decoration", "weightKg": "4"}],
            }
        },
        principal=staff_a,
        locale="en",
    )
    assert [(e["field"], e["code"]) for e in outflow["ressourcerieOutflowRecord"]["errors"]] == [
        ("lines.0.categoryCode", "INVALID")
    ]
    assert outflow["ressourcerieOutflowRecord"]["errors"][0]["message"].startswith(
        "Furniture and decoration has sub-categories: weigh on one of them (C_15 Furniture, C_16 Decoration,"
    )
    assert (await Intake.all().count(), await Outflow.all().count()) == (0, 0)


async def test_an_outflow_of_unknown_destination_is_listed_marked_with_its_code(gql, client, org_a, staff_a):
    """An outflow imported from a newer fabcom (« compost »): the list answers it, marked
    UNKNOWN with the code as stored, and every other row as usual."""
    from tortoise import connections

    for destination in ("waste", "recycling"):
        await gql(
            OUTFLOW,
            {
                "input": {
                    "organizationSlug": org_a.slug,
                    "destination": destination.upper(),
                    "lines": [{"categoryCode": "C_22", "weightKg": "3"}],
                }
            },
            principal=staff_a,
        )
    first = await Outflow.filter(organization_id=org_a.id).order_by("id").first()
    assert first is not None
    await connections.get("default").execute_query(
        "UPDATE ressourcerie_outflow SET destination = 'compost' WHERE id = $1"
        if connections.get("default").capabilities.dialect == "postgres"
        else "UPDATE ressourcerie_outflow SET destination = 'compost' WHERE id = ?",
        [first.id],
    )
    query = """query($org: String!) {
      ressourcerieOutflows(organizationSlug: $org, first: 10) {
        totalCount edges { node { destination destinationCode weightKg lines { categoryCode weightKg } } }
      }
    }"""
    listed = (await gql(query, {"org": org_a.slug}, principal=staff_a))["ressourcerieOutflows"]
    assert listed["totalCount"] == 2
    assert [e["node"] for e in listed["edges"]] == [
        {
            "destination": "RECYCLING",
            "destinationCode": "recycling",
            "weightKg": "3.000",
            "lines": [{"categoryCode": "C_22", "weightKg": "3.000"}],
        },
        {
            "destination": "UNKNOWN",
            "destinationCode": "compost",
            "weightKg": "3.000",
            "lines": [{"categoryCode": "C_22", "weightKg": "3.000"}],
        },
    ]
    # UNKNOWN is for reading only
    refused = await gql(
        OUTFLOW,
        {
            "input": {
                "organizationSlug": org_a.slug,
                "destination": "UNKNOWN",
                "lines": [{"categoryCode": "C_22", "weightKg": "3"}],
            }
        },
        principal=staff_a,
        locale="fr",
    )
    assert [(e["field"], e["code"]) for e in refused["ressourcerieOutflowRecord"]["errors"]] == [
        ("destination", "INVALID")
    ]
    assert await Outflow.all().count() == 2


async def test_the_report_says_a_period_it_refuses_at_the_top_level_and_its_description_says_so(client, org_a, staff_a):
    from modules.ressourcerie.schema import Query

    description = Query.__strawberry_definition__.get_field("ressourcerie_report").description  # type: ignore[attr-defined]
    assert "null for a site you may not read" in description
    assert "cannot be read" not in description.split(";")[0]
    assert "top-level error" in description
    # more than five years: said, not a masked internal error
    body = await raw(
        client,
        'query($org: String!) { ressourcerieReport(period: "2015-01-01/2026-12-31", organizationSlug: $org) { kgIn } }',
        {"org": org_a.slug},
        principal=staff_a,
    )
    assert body["data"] == {"ressourcerieReport": None}
    assert [(e["extensions"]["code"], e["message"]) for e in body["errors"]] == [
        ("OUT_OF_RANGE", "Choisissez une période de cinq ans au plus, sa fin après son début.")
    ]


async def test_the_example_runs_as_pasted_with_the_variables_it_shows(gql, org_a, staff_a):
    import json
    import re

    shown = re.search(r"^# variables: (\{.*\})$", EXAMPLE, re.MULTILINE)
    assert shown is not None
    variables = {**json.loads(shown.group(1)), "organization": org_a.slug}
    found = await gql(EXAMPLE, variables, principal=staff_a)
    assert found["ressourcerieReport"]["kgIn"] == "0.000"
    assert found["ressourcerieIntakes"]["totalCount"] == 0


async def test_sites_are_named_by_organization_slug_and_the_former_site_slug_still_works(client, org_a, staff_a):
    intakes = "query($o: String, $s: String) { ressourcerieIntakes(organizationSlug: $o, siteSlug: $s, first: 5) { totalCount } }"
    mutation = "mutation($input: RessourcerieOutflowRecordInput!) { ressourcerieOutflowRecord(input: $input) { outflow { weightKg } errors { field code message } } }"
    line = [{"categoryCode": "C_16", "weightKg": "5"}]
    answers = {}
    for name, names in {
        "new": {"o": org_a.slug},
        "former": {"s": org_a.slug},
        "both, the same": {"o": org_a.slug, "s": org_a.slug},
        "both, different": {"o": org_a.slug, "s": "fablab-b"},
        "neither": {},
    }.items():
        listed = await raw(client, intakes, names, principal=staff_a)
        given = {"organizationSlug": names.get("o"), "siteSlug": names.get("s")}
        recorded = await raw(
            client,
            mutation,
            {"input": {**{k: v for k, v in given.items() if v}, "destination": "WASTE", "lines": line}},
            principal=staff_a,
        )
        answers[name] = (
            [(e["extensions"]["code"], e["message"]) for e in listed.get("errors", [])]
            or listed["data"]["ressourcerieIntakes"]["totalCount"],
            [(e["field"], e["code"], e["message"]) for e in recorded["data"]["ressourcerieOutflowRecord"]["errors"]],
        )
    assert answers == {
        "new": (0, []),
        "former": (0, []),
        "both, the same": (0, []),
        "both, different": (
            [("BAD_USER_INPUT", "Donnez seulement organizationSlug (siteSlug est son ancien nom).")],
            [("organizationSlug", "INVALID", "Donnez seulement organizationSlug (siteSlug est son ancien nom).")],
        ),
        "neither": (
            [("BAD_USER_INPUT", "Donnez organizationSlug : l’identifiant du site (organisation).")],
            [("organizationSlug", "REQUIRED", "Ce champ est obligatoire.")],
        ),
    }
    assert await Outflow.filter(organization_id=org_a.id).count() == 3
