"""For schools: the embeddable widget (the only frameable page), the share page, the poster
with its QR code, and the read-only JSON API with ETags."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import httpx
import pytest
import segno
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import PUBLIC_URL
from toolbox.catalogue import repository
from toolbox.catalogue.models import THEMES, ToolSlug
from toolbox.schools.embedding import QR_ERROR_LEVEL
from toolbox.schools.router import EMBED_MAX

FILTERS = {"thema": "faalangst", "doelgroep": "leerling"}
QUERY = urlencode(FILTERS)
SVG = "{http://www.w3.org/2000/svg}"


def assert_not_frameable(response: httpx.Response) -> None:
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


async def test_only_the_embed_may_be_framed(client: httpx.AsyncClient) -> None:
    embed = await client.get(f"/toolbox/embed?{QUERY}")
    assert embed.status_code == 200
    csp = embed.headers["content-security-policy"]
    assert "frame-ancestors *" in csp and "'none'" not in csp.split("frame-ancestors")[1]
    assert "x-frame-options" not in embed.headers
    # Everything else in the policy stays as strict as on the rest of the site.
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "object-src 'none'" in csp
    for path in (
        f"/toolbox?{QUERY}",
        "/toolbox/voor-scholen",
        "/toolbox/awel",
        f"/toolbox/delen?{QUERY}",
        f"/toolbox/affiche?{QUERY}",
        f"/toolbox/qr.svg?{QUERY}",
        f"/api/toolbox/tools?{QUERY}",
        "/",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert_not_frameable(response)


async def test_embed_is_a_compact_list_opening_links_in_a_new_tab(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    embed = await client.get(f"/toolbox/embed?{QUERY}")
    page = embed.text
    assert page.lstrip().startswith("<!doctype html>")
    assert '<html lang="nl-BE" dir="ltr">' in page
    assert "/static/css/toolbox-embed.css" in page
    # No site chrome, no scripts, no cookies in someone else's page; cacheable.
    assert "<script" not in page and "site-header" not in page and "Snel weg" not in page
    assert "set-cookie" not in embed.headers
    assert embed.headers["cache-control"].startswith("public")
    tools, total = await repository.search_tools(
        db, repository.ToolFilter(themes=("faalangst",), audiences=("leerling",), sort="titel")
    )
    assert total > 0
    for tool in tools[:10]:
        assert html.escape(tool.title) in page
        assert f'href="{PUBLIC_URL}/toolbox/{tool.slug}" target="_blank" rel="noopener"' in page
    more = f'href="{html.escape(f"{PUBLIC_URL}/toolbox?{QUERY}")}" target="_blank" rel="noopener"'
    assert more in page and "Meer op het CLB-platform" in page
    for number in ("102", "1813", "112"):
        assert f'href="tel:{number}"' in page
    # Every link that navigates opens a new tab (phone numbers open the dialer).
    for tag in re.findall(r"<a [^>]*>", page):
        assert 'href="tel:' in tag or ('target="_blank"' in tag and 'rel="noopener"' in tag), tag


async def test_embed_limit(client: httpx.AsyncClient) -> None:
    def items(text: str) -> int:
        return len(re.findall(r"<li>\s*<h2>", text))

    assert items((await client.get("/toolbox/embed")).text) == 10
    assert items((await client.get("/toolbox/embed?beperk=3")).text) == 3
    assert items((await client.get("/toolbox/embed?beperk=500")).text) == EMBED_MAX


async def test_a_broken_embed_snippet_explains_itself_inside_the_frame(
    client: httpx.AsyncClient,
) -> None:
    for query in ("thema=astrologie", "beperk=veel"):
        response = await client.get(f"/toolbox/embed?{query}", headers={"accept": "text/html"})
        assert response.status_code == 422
        assert "x-frame-options" not in response.headers
        assert "frame-ancestors *" in response.headers["content-security-policy"]
        assert "onbekende keuze" in response.text
        assert "Meer op het CLB-platform" in response.text


async def test_share_page_offers_link_snippet_and_poster(client: httpx.AsyncClient) -> None:
    catalogue = await client.get(f"/toolbox?{QUERY}")
    assert f'href="/toolbox/delen?{html.escape(QUERY)}"' in catalogue.text
    page = await client.get(f"/toolbox/delen?{QUERY}")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Voor scholen</h1>" in text
    assert html.escape(f"{PUBLIC_URL}/toolbox?{QUERY}") in text
    # The snippet is shown as text: once unescaped it is exactly the HTML to paste.
    match = re.search(r'<textarea id="embed-code"[^>]*>(.*?)</textarea>', text, re.S)
    assert match is not None
    snippet = html.unescape(match.group(1))
    embed_url = f"{PUBLIC_URL}/toolbox/embed?{QUERY}"
    assert snippet == (
        f'<iframe src="{html.escape(embed_url)}" title="Hulp en tips van het CLB" '
        'width="100%" height="600" loading="lazy"></iframe>'
    )
    assert f'href="/toolbox/affiche?{html.escape(QUERY)}"' in text
    assert f'href="/toolbox/qr.svg?{html.escape(QUERY)}"' in text
    for name, value in FILTERS.items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in text


async def test_poster_has_its_title_themes_and_qr_code(client: httpx.AsyncClient) -> None:
    page = await client.get(f"/toolbox/affiche?{QUERY}")
    assert page.status_code == 200
    assert "Hulp en tips van het CLB</h1>" in page.text
    assert "Faalangst" in page.text
    assert f'src="/toolbox/qr.svg?{html.escape(QUERY)}"' in page.text
    assert html.escape(f"127.0.0.1:8000/toolbox?{QUERY}") in page.text
    assert "/static/css/toolbox-print.css" in page.text
    custom = await client.get(f"/toolbox/affiche?{QUERY}&titel=Zit+je+ergens+mee%3F")
    assert "Zit je ergens mee?</h1>" in custom.text
    too_long = await client.get(f"/toolbox/affiche?titel={'x' * 81}")
    assert too_long.status_code == 422


def _dark_modules(svg: bytes) -> tuple[set[tuple[int, int]], int]:
    """Read a segno SVG back into its dark modules: the ``qrline`` path draws each run of
    dark modules as a horizontal line through the middle of its row."""
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    size = int(root.attrib["viewBox"].split()[2])
    path = next(p for p in root.iter(f"{SVG}path") if p.get("class") == "qrline")
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for command, args in re.findall(r"([MmHh])([-\d. ]+)", path.attrib["d"]):
        numbers = [float(n) for n in args.split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            end = numbers[0] if command == "H" else x + numbers[0]
            dark.update((int(col), int(y)) for col in range(int(x), int(end)))
            x = end
    return dark, size


async def test_qr_code_encodes_the_filtered_list(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/toolbox/qr.svg?{QUERY}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"].startswith("public")
    assert b"style=" not in response.content
    dark, size = _dark_modules(response.content)
    expected = segno.make(f"{PUBLIC_URL}/toolbox?{QUERY}", error=QR_ERROR_LEVEL, micro=False)
    border = (size - expected.symbol_size(border=0)[0]) // 2
    expected_dark = {
        (col + border, row + border)
        for row, line in enumerate(expected.matrix)
        for col, module in enumerate(line)
        if module
    }
    assert dark == expected_dark
    assert (await client.get("/toolbox/qr.svg?thema=astrologie")).status_code == 422


async def test_api_lists_tools_with_an_etag_and_answers_304(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/toolbox/tools", params={**FILTERS, "per_pagina": 5})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert body["page"] == 1 and body["per_page"] == 5 and 0 < len(body["items"]) <= 5
    assert all("faalangst" in item["themes"] for item in body["items"])
    assert body["items"][0]["page"].startswith(f"{PUBLIC_URL}/toolbox/")
    etag = response.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)  # strong
    assert response.headers["cache-control"] == "public, max-age=300"

    url = f"/api/toolbox/tools?{QUERY}&per_pagina=5"
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = await client.get(url, headers={"if-none-match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "public, max-age=300"
    changed = await client.get(url, headers={"if-none-match": '"stale"'})
    assert changed.status_code == 200 and changed.headers["etag"] == etag
    other_page = await client.get(f"/api/toolbox/tools?{QUERY}&per_pagina=5&pagina=2")
    assert other_page.headers["etag"] != etag


@pytest.mark.parametrize(
    "query",
    ["thema=astrologie", "doelgroep=iedereen", "sorteer=willekeurig", "per_pagina=1000"],
)
async def test_api_rejects_unknown_filters_with_422(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/api/toolbox/tools?{query}", headers={"accept": "text/html"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] in {"bad_filter", "validation_failed"}
    if query.startswith("thema"):
        assert response.json()["error"]["code"] == "bad_filter"


async def test_api_tool_by_slug_with_old_slugs_and_404(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await client.get("/api/toolbox/tools/awel")
    assert response.status_code == 200
    assert response.json()["slug"] == "awel"
    etag = response.headers["etag"]
    cached = await client.get("/api/toolbox/tools/awel", headers={"if-none-match": etag})
    assert cached.status_code == 304
    tool = await repository.tool_by_slug(db, "awel")
    assert tool is not None
    tool.slug = "awel-102"
    db.add(ToolSlug(slug=tool.slug, tool_id=tool.id))
    await db.commit()
    moved = await client.get("/api/toolbox/tools/awel")
    assert moved.status_code == 301
    assert moved.headers["location"] == "/api/toolbox/tools/awel-102"
    missing = await client.get("/api/toolbox/tools/bestaat-niet", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_api_themes_in_the_visitors_language(client: httpx.AsyncClient) -> None:
    dutch = await client.get("/api/toolbox/themes")
    assert [theme["slug"] for theme in dutch.json()] == list(THEMES)
    faalangst = dutch.json()[0]
    assert faalangst["label"] == "Faalangst" and faalangst["tools"] > 0
    english = await client.get("/api/toolbox/themes", headers={"accept-language": "en"})
    assert english.json()[0]["label"] == "Fear of failure"
    assert english.headers["etag"] != dutch.headers["etag"]
    assert "Accept-Language" in english.headers["vary"]


async def test_api_is_documented_and_the_pages_are_not(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    for path in ("/api/toolbox/tools", "/api/toolbox/tools/{slug}", "/api/toolbox/themes"):
        operation = paths[path]["get"]
        assert operation["tags"] == ["toolbox"]
        assert "304" in operation["responses"]
    tools = paths["/api/toolbox/tools"]["get"]
    assert tools["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ToolPage"
    }
    parameters = {p["name"]: p for p in tools["parameters"]}
    assert {"q", "thema", "doelgroep", "niveau", "soort", "sorteer", "pagina", "per_pagina"} <= set(
        parameters
    )
    assert "faalangst" in parameters["thema"]["schema"]["items"]["enum"]
    assert not any(path.startswith(("/toolbox/embed", "/toolbox/delen")) for path in paths)
