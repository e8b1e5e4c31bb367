"""Interactive API documentation (Swagger UI) served from local files.

FastAPI's default page loads Swagger UI from a CDN and starts it with an inline script; both
would break the platform's rule of no third-party requests and a CSP without inline scripts.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CLB-platform API</title>
  <link rel="stylesheet" href="/api-docs-assets/swagger-ui.css">
</head>
<body>
  <main id="swagger-ui"></main>
  <script src="/api-docs-assets/swagger-ui-bundle.js"></script>
  <script src="/static/js/api-docs.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def api_docs() -> HTMLResponse:
    return HTMLResponse(DOCS_PAGE)
