"""Real databases for the data-layer tests: a migrated, seeded SQLite file per test (copied from one template,
so every test starts from the same state) and, for `postgres` tests, a throw-away schema on the server."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from casework.db import get_engine, session_factory, upgrade
from casework.seed import DemoResident, demo_resident, seed_demo_data
from casework.verification import VerifiedResident, verify_identity

# Demo data is dated relative to the seeding day; a fixed day keeps every expectation exact.
SEED_DAY = date(2026, 6, 10)
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store-template") / "hotline.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    with session_factory(url)() as session:
        seed_demo_data(session, today=SEED_DAY)
        session.commit()
    get_engine(url).dispose()
    return path


@pytest.fixture
def database_url(seeded_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "hotline.db"
    shutil.copy(seeded_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    with session_factory(database_url)() as session:
        yield session
    get_engine(database_url).dispose()


def verified(session: Session, key: str) -> VerifiedResident:
    demo: DemoResident = demo_resident(key)
    resident = verify_identity(session, demo.name, demo.id_number, demo.phone[-4:])
    assert resident is not None, f"demo resident {key} must verify"
    return resident


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards."""
    schema = f"store_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # noqa: BLE001 - any connection problem means the server is not there
        admin.dispose()
        # Every machine of this project (CI included) runs PostgreSQL: its absence is a failure, not a skip.
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 not available: {error}")
    url = f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
