"""The WeChat customer-service message API (`message/custom/send`), async, with a cached access token.

wechatpy's own client is blocking (requests), which would stall the gateway's event loop, so this small
client speaks the same two endpoints with httpx. The base URL comes from settings so tests use a fake server.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from hotline.settings import Settings

TOKEN_ERRORS = {40001, 40014, 42001}  # invalid / expired access token: fetch a new one and retry once
REPLY_WINDOW_OVER = 45015  # the resident has not written for 48 hours
LIMIT_REACHED = 45047  # too many customer-service messages since the resident last wrote


class WeChatApiError(RuntimeError):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class Undeliverable(WeChatApiError):
    """WeChat will not deliver to this resident now (45015 / 45047); retrying does not help."""


class WeChatApi:
    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self.base_url = settings.wechat_api_base_url.rstrip("/")
        self._app_id = settings.wechat_app_id
        self._secret = settings.wechat_app_secret.get_secret_value()
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0))
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def access_token(self, refresh: bool = False) -> str:
        async with self._token_lock:  # one fetch when many deliveries need a token at once
            if refresh or not self._token or time.monotonic() >= self._token_expires:
                response = await self._http.get(
                    f"{self.base_url}/cgi-bin/token",
                    params={"grant_type": "client_credential", "appid": self._app_id, "secret": self._secret},
                )
                data = response.json()
                if "access_token" not in data:
                    raise WeChatApiError(int(data.get("errcode", -1)), str(data.get("errmsg", "")))
                self._token = str(data["access_token"])
                # Refresh five minutes early so a token never expires between fetch and use.
                self._token_expires = time.monotonic() + int(data.get("expires_in", 7200)) - 300
            return self._token

    async def send_text(self, openid: str, text: str) -> None:
        # ensure_ascii=False: WeChat shows \uXXXX escapes literally in some clients.
        body = json.dumps(
            {"touser": openid, "msgtype": "text", "text": {"content": text}}, ensure_ascii=False
        ).encode()
        for attempt in range(2):
            token = await self.access_token(refresh=attempt > 0)
            response = await self._http.post(
                f"{self.base_url}/cgi-bin/message/custom/send",
                params={"access_token": token},
                content=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            data = response.json()
            errcode = int(data.get("errcode", 0))
            if errcode == 0:
                return
            if errcode in TOKEN_ERRORS and attempt == 0:
                continue
            error_class = Undeliverable if errcode in (REPLY_WINDOW_OVER, LIMIT_REACHED) else WeChatApiError
            raise error_class(errcode, str(data.get("errmsg", "")))
