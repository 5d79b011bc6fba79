"""PDF versions of the pages made to print (a receipt, the annual report), by WeasyPrint.

WeasyPrint needs Pango (Debian: ``libpango-1.0-0 libpangoft2-1.0-0``, already there
wherever Chromium is). Without it the print-ready HTML pages still work and the PDF
links answer 503 with a message saying so. Rendering is blocking: it runs in a thread.
Nothing is fetched from outside: the only stylesheet is read from the module's files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent / "static"
PRINT_CSS = STATIC / "ressourcerie" / "print.css"


def available() -> bool:
    """Whether PDFs can be made here (WeasyPrint and its system libraries load)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    # Pages made to print never load anything from outside the instance.
    raise ValueError(f"external resource refused: {url}")


def _render(html: str) -> bytes:
    import weasyprint

    document = weasyprint.HTML(string=html, url_fetcher=_refuse_fetch)
    return document.write_pdf(stylesheets=[weasyprint.CSS(filename=str(PRINT_CSS))])


async def html_to_pdf(html: str) -> bytes:
    """The PDF of a standalone HTML page."""
    return await asyncio.to_thread(_render, html)
