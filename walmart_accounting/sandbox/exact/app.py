"""The ASGI app: the OAuth and API routes, JSON or Atom answers, and build_exact_app."""

from __future__ import annotations

from typing import Any, Iterable
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from walmart_accounting.sandbox.exact.state import ExactState


def _accepts_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept or request.query_params.get("$format", "").lower() == "json"


_XML_NOTE = ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
             "<title>This sandbox, like Exact Online, answers in Atom XML unless the request sends "
             "Accept: application/json</title></feed>")


def build_exact_app(options, items: Iterable[Any] | None = None) -> Starlette:
    """The Exact Online emulator as an ASGI app; its state is `app.state.exact` (an ExactState)."""
    state = ExactState(options, items)

    async def auth(request: Request) -> Response:
        return state.authorize(dict(request.query_params))

    async def token(request: Request) -> Response:
        ctype = request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in ctype:
            return state._oauth_error(400, "invalid_request", "The request must be form-encoded.")
        try:  # python-multipart is not a dependency; a token request is a plain urlencoded form
            form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return state._oauth_error(400, "invalid_request", "The request body is not valid UTF-8.")
        return state.token(form)

    async def api(request: Request) -> Response:
        body = await request.body()
        # request.base_url is the outermost app's root; the API root must include the mount (/exact).
        api_root = f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}/api/v1"
        state.api_root = api_root
        response = state.handle_api(request.method, request.path_params["rest"], dict(request.query_params),
                                    request.headers, body, api_root)
        if state.require_json_accept and not _accepts_json(request) and response.status_code != 204:
            xml = Response(_XML_NOTE, status_code=response.status_code, media_type="application/atom+xml")
            for name, value in response.headers.items():
                if name.lower().startswith("x-ratelimit") or name.lower() == "reason":
                    xml.headers[name] = value
            return xml
        return response

    app = Starlette(routes=[
        Route("/api/oauth2/auth", auth, methods=["GET"]),
        Route("/api/oauth2/token", token, methods=["POST"]),
        Route("/api/v1/{rest:path}", api, methods=["GET", "POST", "PUT", "DELETE"]),
    ])
    app.state.exact = state
    return app
