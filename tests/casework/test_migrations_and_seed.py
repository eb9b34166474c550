"""The schema comes from the Alembic migrations (SQLite and PostgreSQL); demo data is idempotent."""

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select

from casework import accounts
from casework.column_types import CHINA_TZ
from casework.db import alembic_config, current_revision, get_engine, session_scope, upgrade
from casework.enums import TicketStatus
from casework.id_numbers import check_id_number
from casework.models import Base, Resident, Ticket
from casework.seed import DEMO_RESIDENTS, demo_resident, seed_demo_data
from casework.tickets import open_ticket, transition
from casework.verification import verify_identity
from hotline.settings import PROJECT_ROOT

from .conftest import SEED_DAY

HOTLINE = PROJECT_ROOT / ".venv" / "bin" / "hotline"
TABLES = {
    "residents",
    "enrolments",
    "contributions",
    "account_entries",
    "claims",
    "offsite_filings",
    "audit_records",
    "identity_attempts",
    "sealed_id_numbers",
    "tickets",
    "ticket_events",
    "ticket_messages",
    "ticket_sequences",
    "ticket_notes",
    "callback_tasks",
    "supervision_events",
    "agents",
    "agent_sessions",
    "assist_suggestions",
    "conversation_turns",
    "queued_messages",
    "feedback",
    "undeliverable_answers",
    "alembic_version",
}


def _schema_drift(url: str) -> list:
    with get_engine(url).connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def test_migrations_build_the_full_schema_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'fresh.db'}"  # the directory does not exist yet
    upgrade(url)
    assert set(inspect(get_engine(url)).get_table_names()) == TABLES
    assert current_revision(url) == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert _schema_drift(url) == []  # the models and the migrations describe the same schema


def test_migrations_downgrade_to_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    assert set(inspect(get_engine(url)).get_table_names()) == {"alembic_version"}


def test_seeding_twice_adds_nothing_the_second_time(database_url: str) -> None:
    with session_scope(database_url) as session:
        before = session.scalar(select(func.count()).select_from(Resident))
        report = seed_demo_data(session, today=SEED_DAY)
        after = session.scalar(select(func.count()).select_from(Resident))
    assert report.created == () and len(report.existing) == len(DEMO_RESIDENTS)
    assert before == after == len(DEMO_RESIDENTS)


def test_demo_residents_are_obviously_fictitious_but_valid_for_the_dialogue() -> None:
    for demo in DEMO_RESIDENTS:
        assert "演示" in demo.name and demo.phone.startswith("1380000000")
        assert check_id_number(demo.id_number).valid, demo.key
    assert len({d.id_number for d in DEMO_RESIDENTS}) == len(DEMO_RESIDENTS)


def test_db_setup_command_migrates_seeds_and_can_be_repeated(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    first = subprocess.run([str(HOTLINE), "db", "setup"], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run(
        [str(HOTLINE), "db", "setup"], env=env, capture_output=True, text=True, check=True
    )
    assert f"新增 {len(DEMO_RESIDENTS)} 位" in first.stdout
    assert "新增 0 位" in second.stdout and f"已存在 {len(DEMO_RESIDENTS)} 位" in second.stdout


def test_demo_residents_command_prints_full_fictitious_identities_with_a_label() -> None:
    result = subprocess.run(
        [str(HOTLINE), "db", "demo-residents"], capture_output=True, text=True, check=True
    )
    assert "虚构" in result.stdout
    assert all(d.id_number in result.stdout and d.phone in result.stdout for d in DEMO_RESIDENTS)


def test_importing_the_data_layer_opens_no_database(tmp_path: Path) -> None:
    # rasa-sdk imports every module under actions/ (which imports casework) at start-up; none may connect.
    target = tmp_path / "must-not-exist" / "hotline.db"
    code = (
        "import importlib, pkgutil, casework, actions.domain\n"
        "for package in (casework, actions.domain):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{target}"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=PROJECT_ROOT)
    assert not target.parent.exists()


def test_migrations_are_not_importable_as_a_package() -> None:
    migrations = PROJECT_ROOT / "casework" / "migrations"
    assert (
        not (migrations / "__init__.py").exists() and not (migrations / "versions" / "__init__.py").exists()
    )


@pytest.mark.postgres
def test_migrations_seed_lookups_and_tickets_work_on_postgresql(postgres_url: str) -> None:
    upgrade(postgres_url)
    assert set(inspect(get_engine(postgres_url)).get_table_names()) == TABLES
    assert _schema_drift(postgres_url) == []
    with session_scope(postgres_url) as session:
        assert len(seed_demo_data(session, today=SEED_DAY).created) == len(DEMO_RESIDENTS)
    with session_scope(postgres_url) as session:
        assert seed_demo_data(session, today=SEED_DAY).created == ()
        demo = demo_resident("employee")
        resident = verify_identity(session, demo.name, demo.id_number, demo.phone[-4:], actor="rest:pg")
        balance = accounts.account_balance(session, resident.resident_id, actor="rest:pg")
        claims = accounts.reimbursements(session, resident.resident_id, actor="rest:pg")
        receipt = open_ticket(
            session,
            category="投诉",
            transcript=f"身份证{demo.id_number}",
            channel="rest",
            sender_id="pg",
            resident=resident,
            now=datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ),
        )
        second = open_ticket(
            session,
            category="投诉",
            transcript="…",
            channel="rest",
            sender_id="pg",
            now=datetime(2026, 11, 23, 11, 0, tzinfo=CHINA_TZ),
        )
    assert balance.has_record and len(claims.claims) == 4
    assert (receipt.number, second.number) == ("12393-20261123-0001", "12393-20261123-0002")
    with session_scope(postgres_url) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == receipt.number)).one()
        transition(ticket, TicketStatus.DISPATCHED, "agent:wang")
        assert demo.id_number not in ticket.transcript
        assert ticket.due_at == receipt.due_at and ticket.due_at.tzinfo is not None
    command.downgrade(alembic_config(postgres_url), "base")
    assert set(inspect(get_engine(postgres_url)).get_table_names()) == {"alembic_version"}


def test_db_supervise_command_flags_overdue_tickets(database_url: str) -> None:
    with session_scope(database_url) as session:
        receipt = open_ticket(
            session,
            category="转人工咨询",
            transcript="…",
            channel="rest",
            sender_id="late",
            now=datetime(2026, 1, 5, 10, 0, tzinfo=CHINA_TZ),  # long overdue by now
        )
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run(
        [str(HOTLINE), "db", "supervise"], env=env, capture_output=True, text=True, check=True
    )
    assert receipt.number in result.stdout
    with session_scope(database_url) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == receipt.number)).one()
        assert ticket.status is TicketStatus.SUPERVISED and ticket.supervised
