"""Every request to the gateway gets a request id: the caller's `X-Request-ID` if well formed (a reverse proxy's),
else a new one. It is kept in `hotline.structured_logs.REQUEST_ID` while the request runs — so it is in every log
line and goes to Rasa with the message (channels/rasa_pool.py) — and returned in the response header."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.structured_logs import REQUEST_ID, REQUEST_ID_HEADER, accepted_request_id

_HEADER = REQUEST_ID_HEADER.lower().encode()


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(_HEADER, b"").decode("latin-1")
        request_id = accepted_request_id(given)
        marker = REQUEST_ID.set(request_id)

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((_HEADER, request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, with_header)
        finally:
            REQUEST_ID.reset(marker)
