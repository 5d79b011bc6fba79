"""Report periods, month-by-month figures, spreadsheet exports, the annual report and the
network totals, with figures computed by hand."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fabcom.api import PermissionDenied, Role, ValidationFailed, static_url
from fabcom.auth.services import create_api_token
from fabcom.network.models import Partnership, PartnershipStatus
from fabcom.permissions import SCOPES, system_principal
from modules.ressourcerie import pdf
from modules.ressourcerie.models import SiteSettings
from modules.ressourcerie.periods import parse_period
from modules.ressourcerie.reports import build_report, network_totals
from modules.ressourcerie.services import record_intake, record_outflow, record_sale, update_site_settings
from modules.ressourcerie.tests.test_pages import csrf

PARIS = ZoneInfo("Europe/Paris")


def at(day: str, hour: int = 11) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), PARIS)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025", "2025-01-01", "2025-12-31"),
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("2025-03-14", "2025-03-14", "2025-03-14"),
        ("2025-01-01/2025-03-31", "2025-01-01", "2025-03-31"),
    ],
)
def test_periods_as_people_write_them(text, start, end):
    assert parse_period(text) == (dt.date.fromisoformat(start), dt.date.fromisoformat(end))


@pytest.mark.parametrize("text", ["", "2025-13", "mars", "2025-03-31/2025-01-01"])
def test_unreadable_periods_are_refused(text):
    with pytest.raises(ValidationFailed):
        parse_period(text)


@pytest.fixture
async def quarter(org_a, org_b, staff_a):
    """January: 50 kg in (furniture 30 + clothes 20), 12 kg sold, 8 kg recycled (TLC), 5 kg waste.
    February: 10 kg in, 4 kg given to a partner, 3 kg of books recycled by a named buyer.
    March 31st at 23:30 in Paris (21:30 UTC): 2 kg in — still March for the site."""
    await record_intake(
        staff_a,
        org_a.id,
        {
            "mode_code": "apport_volontaire",
            "occurred_at": at("2025-01-10"),
            "lines": [{"category_code": "C_15", "gross_kg": "30"}, {"category_code": "C_22", "gross_kg": "20"}],
        },
    )
    await record_sale(
        staff_a,
        org_a.id,
        {
            "payment_mode": "cash",
            "occurred_at": at("2025-01-11"),
            "lines": [{"category_code": "C_15", "weight_kg": "12", "amount": "36.50"}],
        },
    )
    await record_outflow(
        staff_a,
        org_a.id,
        {
            "destination": "recycling",
            "occurred_at": at("2025-01-20"),
            "lines": [{"category_code": "C_22", "weight_kg": "8"}],
        },
    )
    await record_outflow(
        staff_a,
        org_a.id,
        {
            "destination": "waste",
            "occurred_at": at("2025-01-20"),
            "lines": [{"category_code": "C_16", "weight_kg": "5"}],
        },
    )
    await record_intake(
        staff_a,
        org_a.id,
        {
            "mode_code": "collecte_domicile",
            "occurred_at": at("2025-02-03"),
            "donor_kind": "person",
            "donor_name": "Mme Roux",
            "lines": [{"category_code": "C_11", "gross_kg": "10"}],
        },
    )
    await record_outflow(
        staff_a,
        org_a.id,
        {
            "destination": "partner_gift",
            "partner_organization_id": org_b.id,
            "occurred_at": at("2025-02-04"),
            "lines": [{"category_code": "C_11", "weight_kg": "4"}],
        },
    )
    await record_outflow(
        staff_a,
        org_a.id,
        {
            "destination": "recycling",
            "buyer": "Papeterie Dupuis",
            "occurred_at": at("2025-02-05"),
            "lines": [{"category_code": "C_11", "weight_kg": "3"}],
        },
    )
    await record_intake(
        staff_a,
        org_a.id,
        {
            "mode_code": "apport_volontaire",
            "occurred_at": dt.datetime(2025, 3, 31, 23, 30, tzinfo=PARIS),
            "lines": [{"category_code": "C_18", "gross_kg": "2"}],
        },
    )


async def test_month_by_month_in_the_sites_time_zone(org_a, staff_a, quarter):
    report = await build_report(staff_a, org_a.id, dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    zero = Decimal(0)
    assert report.monthly == {
        "2025-01": {"in": Decimal("50.000"), "reused": Decimal("12.000"), "recycled": Decimal("8.000"), "waste": Decimal("5.000"), "revenue": Decimal("36.50")},
        "2025-02": {"in": Decimal("10.000"), "reused": Decimal("4.000"), "recycled": Decimal("3.000"), "waste": zero, "revenue": zero},
        "2025-03": {"in": Decimal("2.000"), "reused": zero, "recycled": zero, "waste": zero, "revenue": zero},
    }  # fmt: skip
    # 62 kg in; re-use 16 kg → 25.8 %; re-use + recycling 27 kg → 43.5 %
    assert (report.kg_in, report.reuse_rate, report.recovery_rate) == (
        Decimal("62.000"),
        Decimal("25.8"),
        Decimal("43.5"),
    )


async def test_csv_export_for_french_excel(client, login, org_a, staff_a, quarter):
    await login(client, staff_a)
    response = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/export/report.csv?period=2025-01")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="recyclerie-a-report-2025-01-01-2025-01-31.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM French Excel needs to read UTF-8
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Indicateur;Détail;Valeur;Unité"
    assert "Collecté;Total;50,000;kg" in lines
    assert "Collecté par mode;Apport volontaire;50,000;kg" in lines
    assert "Sorties par filière REP;TLC — Textiles, linge, chaussures;8,000;kg" in lines
    assert "Taux de réemploi;kg réemployés ÷ kg collectés;24,0;%" in lines  # 12 / 50
    assert "Taux de valorisation;(kg réemployés + kg recyclés) ÷ kg collectés;40,0;%" in lines  # (12 + 8) / 50
    assert "Ventes;Espèces;36,50;€" in lines


async def test_xlsx_and_ods_exports_hold_the_same_figures(client, login, org_a, staff_a, quarter):
    from odf.opendocument import load
    from odf.table import Table
    from openpyxl import load_workbook

    await login(client, staff_a)
    xlsx = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/export/report.xlsx?period=2025-01")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.title == "Rapport d’activité"
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["Collecté", "Total", 50, "kg"] in rows
    assert ["Taux de réemploi", "kg réemployés ÷ kg collectés", 24, "%"] in rows
    ods = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/export/report.ods?period=2025-01")
    assert ods.headers["content-type"] == "application/vnd.oasis.opendocument.spreadsheet"
    tables = load(io.BytesIO(ods.content)).spreadsheet.getElementsByType(Table)
    assert tables[0].getAttribute("name") == "Rapport d’activité"
    assert "Collecté" in str(tables[0])


async def test_per_channel_export_refuses_unmapped_categories(client, login, org_a, staff_a, quarter):
    await login(client, staff_a)
    january = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/export/channels.csv?period=2025-01")
    assert january.content.decode("utf-8-sig").splitlines() == [
        "Filière REP;Code;kg",
        "TLC — Textiles, linge, chaussures;TLC;8,000",
    ]
    # February's books were recycled by a named buyer: counted under the buyer.
    february = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/export/channels.csv?period=2025-02")
    assert (
        february.content.decode("utf-8-sig").splitlines()[1]
        == "Repreneur : Papeterie Dupuis;buyer:Papeterie Dupuis;3,000"
    )
    await record_outflow(
        staff_a,
        org_a.id,
        {
            "destination": "recycling",
            "occurred_at": at("2025-02-10"),
            "lines": [{"category_code": "C_18", "weight_kg": "1"}],
        },
    )
    refused = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/export/channels.xlsx?period=2025-02")
    assert refused.status_code == 400
    assert "Ces catégories n’ont pas de filière REP et aucun repreneur n’a été indiqué : Vaisselle." in refused.text
    bad = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/export/report.csv?period=2025-13")
    assert bad.status_code == 400
    assert (await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/export/report.pdf")).status_code == 404


async def test_another_organization_cannot_export(client, login, org_a, staff_b, quarter):
    await login(client, staff_b)
    response = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/export/report.csv?period=2025")
    assert response.status_code == 404
    assert "Collecté" not in response.text


async def test_the_report_page_has_charts_with_their_tables(client, login, org_a, staff_a, quarter):
    await login(client, staff_a)
    page = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report?period=2025-01-01/2025-03-31")
    assert page.status_code == 200
    assert '<canvas id="monthly-chart" role="img"' in page.text
    assert '<script type="application/json" id="ressourcerie-chart-data">' in page.text
    assert '<th scope="row">févr. 2025</th>' in page.text  # the chart's table, its months in words
    assert "<script>" not in page.text  # nothing inline: the CSP forbids it
    for path in ("vendor/chartjs/chart-4.6.1.umd.min.js", "report-charts.js"):
        url = static_url("ressourcerie", path)
        assert url.startswith(f"/static/m/ressourcerie/{path}?v=")
        assert f'src="{url}"' in page.text.replace("&amp;", "&")
        assert (await client.get(url)).status_code == 200
    assert (await client.get("/m/ressourcerie/static/report-charts.js")).status_code == 404  # the old address is gone


async def test_the_annual_report_page_and_pdf(client, login, org_a, staff_a, quarter):
    await login(client, staff_a)
    page = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/annual?year=2025")
    assert page.status_code == 200
    assert "Rapport d’activité annuel 2025" in page.text
    assert "62 kg collectés en 3 collectes" in page.text
    assert "CO₂" in page.text  # says why it is not given
    if pdf.available():
        document = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/annual.pdf?year=2025")
        assert document.status_code == 200
        assert document.content.startswith(b"%PDF-")


async def test_network_totals_add_only_partners_that_share(org_a, org_b, make_org, staff_a, make_member):
    # org_b is a partner that shares, org_c a partner that does not, org_d shares but is no partner.
    org_c = await make_org("recyclerie-c", name="Recyclerie C")
    org_d = await make_org("recyclerie-d", name="Recyclerie D")
    for other in (org_b, org_c):
        await Partnership.create(organization=org_a, partner=other, status=PartnershipStatus.ACCEPTED)
    admins = {org.id: await make_member(org, role=Role.ADMIN) for org in (org_b, org_c, org_d)}
    await update_site_settings(admins[org_b.id], org_b.id, {"share_figures": True})
    await update_site_settings(admins[org_d.id], org_d.id, {"share_figures": True})
    for org, kg_in, kg_sold, kg_recycled in [
        (org_a, "100", "40", "20"),
        (org_b, "50", "10", "5"),
        (org_c, "70", "7", "0"),
        (org_d, "9", "9", "0"),
    ]:
        admin = admins.get(org.id) or staff_a
        await record_intake(
            admin, org.id, {"mode_code": "apport_volontaire", "lines": [{"category_code": "C_15", "gross_kg": kg_in}]}
        )
        await record_outflow(
            admin, org.id, {"destination": "sale", "lines": [{"category_code": "C_15", "weight_kg": kg_sold}]}
        )
        if kg_recycled != "0":
            await record_outflow(admin, org.id, {"destination": "recycling", "lines": [{"category_code": "C_15", "weight_kg": kg_recycled}]})  # fmt: skip
    today = dt.date.today()
    totals = await network_totals(staff_a, org_a.id, today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    assert [(row.name, row.kg_in, row.kg_diverted) for row in totals.rows] == [
        ("Recyclerie A", Decimal("100.000"), Decimal("60.000")),
        ("Fablab B", Decimal("50.000"), Decimal("15.000")),
    ]
    assert (totals.kg_in, totals.kg_diverted, totals.not_sharing) == (Decimal("150.000"), Decimal("75.000"), 1)
    with pytest.raises(PermissionDenied):
        await network_totals(admins[org_d.id], org_a.id, today, today)


async def test_only_managers_choose_to_share(client, login, org_a, staff_a, make_member):
    with pytest.raises(PermissionDenied):
        await update_site_settings(staff_a, org_a.id, {"share_figures": True})
    assert not await SiteSettings.exists(organization_id=org_a.id)
    admin = await make_member(org_a, role=Role.ADMIN)
    await login(client, admin)
    url = f"/m/ressourcerie/o/{org_a.slug}/report"
    token = await csrf(client, url)
    saved = await client.post(
        f"/m/ressourcerie/o/{org_a.slug}/settings", data={"csrf_token": token, "share_figures": "on"}
    )
    assert saved.status_code == 303
    assert (await SiteSettings.get(organization_id=org_a.id)).share_figures is True


async def test_an_outflow_whose_destination_is_unknown_is_named_not_a_server_error(client, login, org_a, staff_a):
    """An archive imported from a newer fabcom may hold a destination this one does not know
    (« compost »): the report says which and what to do, with 400, instead of a 500 — and
    writes nothing. A ``destination`` in the address is no filter of the report: ignored."""
    from tortoise import connections

    from fabcom.audit.models import AuditEntry
    from modules.ressourcerie.models import Outflow

    await record_outflow(
        staff_a,
        org_a.id,
        {
            "destination": "waste",
            "occurred_at": at("2025-01-20"),
            "lines": [{"category_code": "C_22", "weight_kg": "8"}],
        },
    )
    await connections.get("default").execute_query("UPDATE ressourcerie_outflow SET destination = 'compost'")
    _token, secret = await create_api_token(system_principal(), staff_a.user_id, {"name": "t", "scopes": list(SCOPES)})
    await login(client, staff_a)
    audited = await AuditEntry.all().count()
    base = f"/m/ressourcerie/o/{org_a.slug}/report"
    message = (
        "Des sorties de cette période ont une destination que fabcom ne connaît pas (compost) : le rapport ne peut pas"
        " les compter. Demandez à l’administrateur·rice de votre instance de les corriger."
    )
    for path in ("?period=2025-01", "?from=2025-01-01&to=2025-01-31&destination=compost", "/annual?year=2025"):
        page = await client.get(base + path)
        assert (page.status_code, message in page.text) == (400, True), path
    for path in ("/export/report.csv?period=2025-01", "/export/report.xlsx?period=2025"):
        refused = await client.get(base + path)
        assert (refused.status_code, message in refused.text) == (400, True), path
    # the API says the same, in its caller's language, rather than a masked internal error
    query = 'query($site: String!) { ressourcerieReport(period: "2025-01", siteSlug: $site) { kgIn } }'
    body = (
        await client.post(
            "/graphql",
            json={"query": query, "variables": {"site": org_a.slug}},
            headers={"Authorization": f"Bearer {secret}"},
        )
    ).json()
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [(message, "INVALID")]
    # another month's report is not concerned, and the address's destination changes nothing
    other = await client.get(f"{base}?period=2025-02&destination=compost")
    assert other.status_code == 200
    assert await AuditEntry.all().count() == audited
    assert await Outflow.filter(organization_id=org_a.id).count() == 1


async def test_no_rep_channel_comes_after_the_channels_wherever_they_are_listed(client, login, org_a, staff_a, quarter):
    # given January: 12 kg of furniture (DEA) sold, 8 kg of clothes (TLC) recycled, 5 kg of
    # decoration (no REP channel) thrown away
    await login(client, staff_a)

    # when the report's table and its export list the kg per channel
    page = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report?period=2025-01")
    csv = await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/export/report.csv?period=2025-01")

    # then « Sans filière REP » comes after the channels, not between DEA and TLC (as "none" would sort)
    table = page.text[page.text.index('<th scope="col">Filière REP</th>') :]
    rows = [name.split(" — ")[0] for name in re.findall(r"<tr><td>([^<]+)</td>", table)[:3]]
    assert rows == ["DEA", "TLC", "Sans filière REP"]
    lines = [line.split(";")[1] for line in csv.content.decode("utf-8-sig").splitlines() if "par filière REP" in line]
    assert [name.split(" — ")[0] for name in lines] == ["DEA", "TLC", "Sans filière REP"]
