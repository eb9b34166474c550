"""The gateway's error answers: always JSON `{"detail": "<中文> / <English>"}`, never a traceback.

FastAPI and Starlette answer some errors in English only (400 "There was an error parsing the body" for a body
that is not UTF-8, 404, 405); those get the bilingual text here. Anything unexpected becomes a bilingual 500,
and the traceback goes to the (masked) log only.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

_CHINESE = re.compile(r"[\u4e00-\u9fff]")
BILINGUAL_BY_STATUS = {
    400: "请求内容无法解析，请发送 UTF-8 编码的 JSON。/ The body could not be parsed: send UTF-8 JSON.",
    401: "未授权的请求。/ Unauthorized.",
    403: "禁止访问。/ Forbidden.",
    404: "找不到该地址。/ Not found.",
    405: "不支持该请求方法。/ Method not allowed.",
    415: "不支持该内容类型。/ Unsupported media type.",
}
MALFORMED_JSON = "请求内容不是合法的 JSON。/ Malformed JSON body."
INTERNAL_ERROR = "服务器内部错误，请稍后再试。/ Internal server error, please try again later."


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)


async def invalid_request(request: Request, error: Exception) -> JSONResponse:
    """400 for a body that is not JSON at all, 422 naming the field for JSON of the wrong shape."""
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return JSONResponse(status_code=400, content={"detail": MALFORMED_JSON})
    fields = "; ".join(
        f"{'.'.join(str(part) for part in problem.get('loc', ()) if part != 'body')}: {problem.get('msg')}"
        for problem in problems
    )
    detail = f"请求格式不正确：{fields} / Invalid request: {fields}"
    return JSONResponse(status_code=422, content={"detail": detail})


async def http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail
    if not isinstance(detail, str) or not _CHINESE.search(detail):
        detail = BILINGUAL_BY_STATUS.get(error.status_code, f"请求无法处理。/ {detail}")
    return JSONResponse(status_code=error.status_code, content={"detail": detail}, headers=error.headers)


async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
    from channels import metrics

    metrics.error("gateway")
    log.error(
        "unexpected %s on %s %s", type(error).__name__, request.method, request.url.path, exc_info=error
    )
    return JSONResponse(status_code=500, content={"detail": INTERNAL_ERROR})
