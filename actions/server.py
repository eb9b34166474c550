"""The action server: rasa-sdk's Sanic app behind the shared secret of the Rasa → action server hop.

    python -m actions.server [--port 5055]        # hotline/processes.py starts it so

rasa-sdk checks nothing itself, and whoever reaches `/webhook` can hand it a forged tracker (`verified: true`)
and read that resident's records. Here every request must carry `Authorization: Bearer <ACTION_SERVER_SECRET>`
(Rasa sends it from bot/endpoints.yml); anything else gets 401. Only `OPEN_PATHS` (`/health`) answer without.
The server binds to `settings.action_server_host` (loopback by default).

Adding routes (e.g. the agent-assist retrieval the gateway calls): write a module with

    def register(app: sanic.Sanic, settings: Settings) -> None:
        bp = Blueprint("assist", url_prefix="/assist"); ...; app.blueprint(bp)

and add its dotted name to `ROUTE_MODULES`. The secret check is a request middleware of the whole app, so
every route added this way inherits it; callers send the header from `action_server_auth_headers(settings)`.
"""

from __future__ import annotations

import argparse
import hmac
import importlib
import logging

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

from hotline.privacy import install_log_masking
from hotline.settings import Settings, get_settings

logger = logging.getLogger(__name__)

ROUTE_MODULES: tuple[str, ...] = ("actions.assist_api", "actions.operations")
OPEN_PATHS = frozenset({"/health"})
AUTHORIZATION = "Authorization"
UNAUTHORIZED = "未授权的请求 / Unauthorized: this server answers the Rasa server only."


def action_server_auth_headers(settings: Settings) -> dict[str, str]:
    """What a caller of the action server (Rasa, the gateway) sends with every request."""
    return {AUTHORIZATION: f"Bearer {settings.action_server_secret.get_secret_value()}"}


def require_secret(app: Sanic, settings: Settings) -> None:
    """Refuse (401) every request to `app` without the secret, except OPEN_PATHS."""
    expected = action_server_auth_headers(settings)[AUTHORIZATION].encode()

    @app.on_request
    async def check_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = (request.headers.get(AUTHORIZATION) or "").encode()
        if not hmac.compare_digest(given, expected):
            logger.warning("refused %s %s: missing or wrong secret", request.method, request.path)
            return response.json({"error": UNAUTHORIZED}, status=401)
        return None


def create_action_app() -> Sanic:
    """The app each Sanic worker serves (module-level, so Sanic's AppLoader can rebuild it in workers)."""
    from rasa_sdk.endpoint import create_app
    from rasa_sdk.executor import ActionExecutor

    settings = get_settings()
    install_log_masking()
    executor = ActionExecutor()
    executor.register_package("actions")
    # No CORS: no browser has any business here. Tracing (rasa-sdk reads it from endpoints.yml) is not used.
    app = create_app(executor, cors_origins=None)
    app.config.KEEP_ALIVE_TIMEOUT = 120

    @app.on_response
    async def no_tracker_in_errors(request: Request, reply: HTTPResponse) -> HTTPResponse | None:
        # rasa-sdk's error handler echoes the request body (the whole tracker, personal data included) back to
        # Rasa, which writes it into its log; only the fact of the error goes back.
        if reply.status >= 500:
            return response.json({"error": "动作服务器内部错误 / action server error"}, status=reply.status)
        return None

    require_secret(app, settings)
    for name in ROUTE_MODULES:
        importlib.import_module(name).register(app, settings)
    return app


def main(argv: list[str] | None = None) -> None:
    from rasa_sdk.utils import configure_colored_logging, number_of_sanic_workers, update_sanic_log_level

    settings = get_settings()
    parser = argparse.ArgumentParser(description="动作服务器（rasa-sdk），只接受带共享密钥的请求")
    parser.add_argument("--port", type=int, default=settings.action_server_port)
    args = parser.parse_args(argv)
    configure_colored_logging("INFO")
    update_sanic_log_level()
    install_log_masking()

    loader = AppLoader(factory=create_action_app)
    app = loader.load()
    logger.info("action server on http://%s:%s (secret required)", settings.action_server_host, args.port)
    app.prepare(host=settings.action_server_host, port=args.port, workers=number_of_sanic_workers())
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
