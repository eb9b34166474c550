"""Persistence of the hotline: ORM models, engine and sessions, Alembic migrations, demo data.

Importing anything here opens no connection: rasa-sdk imports every module under `actions/` at start-up.
"""
