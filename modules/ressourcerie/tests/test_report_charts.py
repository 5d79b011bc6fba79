"""The report's charts give each meaning one colour and one pattern, the same in every
chart, its legend and the printed annual report, with enough contrast to be seen."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from modules.ressourcerie import charts, pdf
from modules.ressourcerie.report_views import SERIES, chart_data
from modules.ressourcerie.reports import build_report
from modules.ressourcerie.tests.test_report_exports import quarter  # noqa: F401 - a fixture, found by its name

STATIC = Path(charts.__file__).resolve().parent / "static" / "ressourcerie"
FABCOM_CSS = Path(charts.__file__).resolve().parents[2] / "fabcom" / "static" / "fabcom.css"


def contrast(one: str, other: str) -> float:
    """WCAG 2.1 contrast ratio of two "#rrggbb" colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_each_meaning_has_exactly_one_colour_and_one_pattern():
    colours = [s.colour for s in charts.STYLES.values()]
    patterns = [s.pattern for s in charts.STYLES.values()]
    assert len(set(colours)) == len(colours) == 6
    assert len(set(patterns)) == len(patterns)
    assert set(patterns) <= set(charts.PATTERNS)
    # every series and every destination is one of these meanings; recycled is recycling
    assert charts.style("recycled") == charts.style("recycling")
    for key in [*SERIES, "sale", "partner_gift", "recycling", "waste"]:
        assert charts.style(key) in charts.STYLES.values()


def test_every_colour_stands_out_from_the_card_the_charts_are_drawn_on():
    card = re.search(r"--card:\s*(#[0-9a-fA-F]{3,6})", FABCOM_CSS.read_text()).group(1)
    assert card.lower() in ("#fff", charts.BACKGROUND)
    for meaning, style in charts.STYLES.items():
        assert contrast(style.colour, charts.BACKGROUND) >= 3, meaning  # WCAG AA for graphics (1.4.11)


@pytest.mark.usefixtures("quarter")
async def test_the_charts_give_a_meaning_the_same_colour_in_the_bars_the_ring_and_their_legends(org_a, staff_a):
    report = await build_report(staff_a, org_a.id, dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    data = chart_data(report, "fr")

    series = {s["key"]: (s["colour"], s["pattern"]) for s in data["series"]}
    assert series == {key: (charts.style(key).colour, charts.style(key).pattern) for key in SERIES}
    ring = data["destinations"]
    assert ring["labels"] == ["Vendu (réemploi)", "Donné aux partenaires (réemploi)", "Recyclé", "Déchet ultime"]
    assert ring["colours"] == [charts.style(k).colour for k in ("sale", "partner_gift", "recycling", "waste")]
    assert ring["patterns"] == [charts.style(k).pattern for k in ("sale", "partner_gift", "recycling", "waste")]
    assert data["background"] == charts.BACKGROUND
    # across both charts a colour means one thing: recycled kg are the recycling kg, waste is waste
    meaning_of: dict[str, set[str]] = {}
    for key, (colour, _pattern) in series.items():
        meaning_of.setdefault(colour, set()).add(charts.SAME_AS.get(key, key))
    for key, colour in zip(("sale", "partner_gift", "recycling", "waste"), ring["colours"], strict=True):
        meaning_of.setdefault(colour, set()).add(key)
    assert all(len(meanings) == 1 for meanings in meaning_of.values()), meaning_of


def test_the_script_takes_every_colour_from_the_page():
    script = (STATIC / "report-charts.js").read_text()
    assert re.findall(r"#[0-9a-fA-F]{3,8}\b|rgba?\(", script) == []  # the palette lives in charts.py only


@pytest.mark.usefixtures("quarter")
async def test_the_printed_annual_report_draws_and_names_the_same_meanings(client, login, org_a, staff_a, monkeypatch):
    """The PDF has no script: its bars and their legend take the same colours and patterns."""

    async def html_itself(html: str) -> bytes:
        return html.encode()

    monkeypatch.setattr(pdf, "available", lambda: True)
    monkeypatch.setattr(pdf, "html_to_pdf", html_itself)
    await login(client, staff_a)
    printed = (await client.get(f"/m/ressourcerie/o/{org_a.slug}/report/annual.pdf?year=2025")).text

    legend = printed.split('<ul class="legend">', 1)[1].split("</ul>", 1)[0]
    for key, label in [
        ("in", "Collecté"),
        ("reused", "Réemployé"),
        ("recycled", "Recyclé"),
        ("waste", "Déchet ultime"),
    ]:
        assert f'<li><span class="swatch" style="{charts.css(key)}"></span> {label}</li>' in legend
        assert f'style="{charts.css(key)}; width:' in printed  # its bars
    assert "Vert" not in printed  # no meaning told by a colour's name


def test_weasyprint_draws_every_pattern_of_the_printed_report(caplog):
    """WeasyPrint ignores CSS it cannot read with a warning, and the bars then come out flat:
    every meaning's pattern must be read, or black-and-white prints lose them."""
    import logging

    from weasyprint import HTML

    bars = "".join(f'<div style="height:10pt; {charts.css(key)}"></div>' for key in charts.STYLES)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        HTML(string=f"<html><body>{bars}</body></html>").write_pdf()
    assert [r.getMessage() for r in caplog.records if "gnored" in r.getMessage()] == []


@pytest.mark.usefixtures("quarter")
async def test_recycled_kg_have_one_name_in_the_charts_the_tables_and_the_exports(client, login, org_a, staff_a):
    """A volunteer reading « Recyclé » in the bars and « Recyclage » in the ring or the
    export wonders whether they are two figures: one word for one meaning, everywhere."""
    await login(client, staff_a)
    base = f"/m/ressourcerie/o/{org_a.slug}/report"
    page = (await client.get(f"{base}?period=2025-01")).text
    csv = (await client.get(f"{base}/export/report.csv?period=2025-01")).content.decode("utf-8-sig")
    report = await build_report(staff_a, org_a.id, dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    data = chart_data(report, "fr")

    assert [s["label"] for s in data["series"]] == ["Collecté", "Réemployé", "Recyclé", "Déchet ultime"]
    assert data["destinations"]["labels"] == ["Vendu (réemploi)", "Recyclé", "Déchet ultime"]
    assert "<td>Recyclé</td>" in page  # the destinations table
    assert '<th scope="col" class="num">Recyclé</th>' in page  # the monthly table
    assert "Sorties par destination;Recyclé;8,000;kg" in csv.splitlines()
    assert "Recyclage;" not in csv
    assert "<td>Recyclage</td>" not in page
    english = chart_data(report, "en")
    assert english["destinations"]["labels"][1] == english["series"][2]["label"] == "Recycled"


@pytest.mark.usefixtures("quarter")
async def test_the_destinations_ring_has_a_heading_and_a_text_alternative(client, login, org_a, staff_a):
    await login(client, staff_a)
    page = (await client.get(f"/m/ressourcerie/o/{org_a.slug}/report?period=2025-01")).text

    assert re.findall(r'<h2 id="destinations-chart-h">([^<]*)</h2>', page) == ["Sorties par destination"]
    canvas = re.search(r'<canvas id="destinations-chart"[^>]*>', page).group(0)
    assert 'role="img"' in canvas
    assert 'aria-labelledby="destinations-chart-h"' in canvas
    assert 'aria-describedby="destinations-chart-text"' in canvas
    # the figures themselves, visible beside the ring (and read out), in the destinations table's order
    legend = re.search(r'<ul id="destinations-chart-text" class="legend">(.*?)</ul>', page, re.S).group(1)
    assert 'class="visually-hidden"' not in legend
    items = [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", legend, re.S)]
    assert items == ["Vendu (réemploi) : 12 kg", "Recyclé : 8 kg", "Déchet ultime : 5 kg"]
    table = re.search(r'<table id="destinations-table">.*?</table>', page, re.S).group(0)
    assert re.findall(r"<tr><td>([^<]*)</td>", table) == ["Vendu (réemploi)", "Recyclé", "Déchet ultime"]


async def test_a_period_without_outflow_says_so_instead_of_an_empty_ring(client, login, org_a, staff_a):
    await login(client, staff_a)
    page = (await client.get(f"/m/ressourcerie/o/{org_a.slug}/report?period=2025-01")).text
    assert '<canvas id="destinations-chart"' not in page
    assert "Aucune sortie sur cette période." in page
