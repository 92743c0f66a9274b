"""Runs the three API emulators on one real HTTP server (uvicorn), in-process or from the CLI."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from walmart_accounting.sandbox.exact import build_exact_app
from walmart_accounting.sandbox.options import SandboxCredentials, SandboxOptions
from walmart_accounting.sandbox.walmart import build_walmart_app
from walmart_accounting.sandbox.xero import build_xero_app

__all__ = ["SandboxCredentials", "SandboxOptions", "SandboxServer", "ThreadedServer", "build_app", "free_port"]


def build_app(options: SandboxOptions | None = None) -> Starlette:
    """The ASGI app serving Walmart under /walmart, Xero under /xero and Exact under /exact."""
    options = options or SandboxOptions()

    wrap = options.faults.wrap
    log = options.requests.wrap
    walmart_app, xero_app, exact_app = build_walmart_app(options), build_xero_app(options), build_exact_app(options)
    app = Starlette(
        routes=[
            Mount("/walmart", app=log("walmart", wrap("walmart", walmart_app))),
            Mount("/xero", app=log("xero", wrap("xero", xero_app))),
            Mount("/exact", app=log("exact", wrap("exact", exact_app))),
        ]
    )
    # Tests, the demo and reports inspect what each emulator holds.
    app.state.walmart = walmart_app.state.walmart
    app.state.xero = xero_app.state.xero
    app.state.exact = exact_app.state.exact
    return app


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ThreadedServer:
    """A uvicorn server on a background thread; a context manager that waits until it accepts."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(app, host=self.host, port=self.port, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"uvicorn-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> "ThreadedServer":
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"HTTP server on {self.url} failed to start")
            if time.monotonic() > deadline:
                raise RuntimeError(f"HTTP server on {self.url} did not start within {timeout} s")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> "ThreadedServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class SandboxServer(ThreadedServer):
    """All three emulators on one port, with the environment a client needs to reach them."""

    def __init__(self, options: SandboxOptions | None = None, host: str = "127.0.0.1", port: int = 0):
        self.options = options or SandboxOptions()
        self.app = build_app(self.options)
        super().__init__(self.app, host=host, port=port)

    def env(self) -> dict[str, str]:
        """Environment variables the connectors read, pointing at this sandbox."""
        c = self.options.credentials
        base = self.url
        return {
            # Real: https://marketplace.walmartapis.com (paths under /v3)
            "WALMART_BASE_URL": f"{base}/walmart",
            "WALMART_CLIENT_ID": c.walmart_client_id,
            "WALMART_CLIENT_SECRET": c.walmart_client_secret,
            # Real: https://api.xero.com (accounting under /api.xro/2.0, tenants at /connections)
            "XERO_API_URL": f"{base}/xero/api",
            # Real: https://identity.xero.com (token at /connect/token)
            "XERO_IDENTITY_URL": f"{base}/xero/identity",
            # Real: https://login.xero.com/identity/connect/authorize
            "XERO_AUTHORIZE_URL": f"{base}/xero/login/identity/connect/authorize",
            "XERO_CLIENT_ID": c.xero_client_id,
            "XERO_CLIENT_SECRET": c.xero_client_secret,
            # Real: https://start.exactonline.nl (or .co.uk, .be, ...); /api/oauth2/* and /api/v1/*
            "EXACT_BASE_URL": f"{base}/exact",
            "EXACT_CLIENT_ID": c.exact_client_id,
            "EXACT_CLIENT_SECRET": c.exact_client_secret,
            "EXACT_WEBHOOK_SECRET": c.exact_webhook_secret,
        }
