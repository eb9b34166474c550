"""No raw ID number, phone or name anywhere the assistant writes (issue 9, finding 5).

Runs last (marker `privacy_scan`): every demo resident types their name, ID number and whole phone number
through the web chat and WeChat — in the identity form, in one sentence, as a Rasa "/intent" message (which
Rasa once echoed into its log), then asks for a person (a ticket). Then every log file of the session's stack
(gateway, Rasa, action server), every file in its state directory (audit log, journals) and every column of
every table except the residents register itself is searched for those values, whatever the earlier tests of
the run left there too.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, select, text

from casework.db import get_engine
from casework.seed import DEMO_RESIDENTS, DemoResident
from tests.conftest import STACK_LOG_NAMES

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.privacy_scan]

REGISTER_TABLES = {"residents", "alembic_version"}  # the register holds the real values by design


def _web_conversation(client: httpx.Client, demo: DemoResident) -> None:
    token = client.post("/api/session").json()["sender"]
    for message in (
        "查一下我的个人账户余额", demo.name, f"身份证号{demo.id_number}", f"手机{demo.phone}",
        f"我叫{demo.name}，身份证{demo.id_number}，电话{demo.phone}",
        f"/身份证{demo.id_number}手机{demo.phone}", f"/{demo.name}",
        "转人工",
    ):
        response = client.post("/api/chat", json={"sender": token, "message": message})
        assert response.status_code in (200, 503), response.text  # 503: queued, which is scanned too


def _wechat_conversation(client: httpx.Client, demo: DemoResident, token: str) -> None:
    from tests.channels.test_wechat import signed_params, text_xml

    for n, message in enumerate((f"我叫{demo.name}，身份证{demo.id_number}，手机{demo.phone}", "转人工")):
        xml = text_xml(message, msg_id=int(time.time() * 1000) + n, openid=f"oScan{demo.key}")
        response = client.post("/wechat", params=signed_params(token=token), content=xml.encode())
        assert response.status_code == 200, response.text


def _forbidden() -> dict[str, str]:
    """Each value that must not appear, with what it is; names also JSON-escaped (Rasa escapes Chinese)."""
    values: dict[str, str] = {}
    for demo in DEMO_RESIDENTS:
        values[demo.id_number] = f"ID number of {demo.key}"
        values[demo.phone] = f"phone of {demo.key}"
        values[demo.name] = f"name of {demo.key}"
        values[json.dumps(demo.name)[1:-1]] = f"escaped name of {demo.key}"
    return values


def _leaks(where: str, content: str, forbidden: dict[str, str]) -> list[str]:
    """One line per value found, with a little context (fictitious demo data: safe to show)."""
    found = []
    for value, what in forbidden.items():
        at = content.find(value)
        if at >= 0:
            context = content[max(0, at - 60):at + len(value) + 20].replace("\n", " ")
            found.append(f"{what} in {where}: …{context}…")
    return found


def test_no_identifier_is_left_in_any_log_journal_or_table(gateway_stack: Any, stack_state_dir: Path) -> None:
    from hotline.settings import get_settings

    with httpx.Client(base_url=gateway_stack.gateway_url, timeout=120) as client:
        for demo in DEMO_RESIDENTS:
            _web_conversation(client, demo)
        _wechat_conversation(client, DEMO_RESIDENTS[0], get_settings().wechat_token.get_secret_value())
    time.sleep(6)  # WeChat answers that missed the passive reply are still being composed and sent

    forbidden = _forbidden()
    leaks: list[str] = []
    files = [path for path in stack_state_dir.rglob("*") if path.is_file() and path.suffix != ".db"]
    assert {path.name for path in files} >= set(STACK_LOG_NAMES)  # the logs are in the state dir
    for path in files:
        if path.exists():
            leaks += _leaks(str(path), path.read_text(encoding="utf-8", errors="replace"), forbidden)

    engine = get_engine(gateway_stack.database_url)
    tables = [name for name in inspect(engine).get_table_names() if name not in REGISTER_TABLES]
    assert {"tickets", "audit_records", "identity_attempts", "sealed_id_numbers"} <= set(tables)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM tickets")).scalar_one() >= len(DEMO_RESIDENTS)
        for table in tables:
            rows = connection.execute(select(text("*")).select_from(text(f'"{table}"'))).all()
            content = "\n".join("\t".join(str(value) for value in row) for row in rows)
            leaks += _leaks(f"table {table}", content, forbidden)
    assert leaks == [], "\n".join(sorted(set(leaks)))
