"""GraphiQL in the browser, every file served by the instance (no CDN)."""

from __future__ import annotations

import re

from fabcom.gql.views import ASSETS


async def test_graphiql_page_loads_only_local_assets(client, db):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert sources == [
        "/graphql/assets/graphiql.min.css",
        "/graphql/assets/react.production.min.js",
        "/graphql/assets/react-dom.production.min.js",
        "/graphql/assets/graphiql.min.js",
        "/graphql/assets/graphiql-init.js",
    ]
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100


def test_vendored_files_keep_their_licences():
    for name in ("LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom"):
        assert "MIT License" in (ASSETS / name).read_text(encoding="utf-8")
    assert "sourceMappingURL" not in (ASSETS / "graphiql.min.js").read_text(encoding="utf-8")
