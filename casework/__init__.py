"""Casework shared by the action server and the gateway: residents' records, identity verification, audit,
tickets (工单) and their 12393 lifecycle, with the ORM models, migrations and demo data beneath them.

Nothing here imports Rasa or FastAPI, and importing any module opens no connection: rasa-sdk imports every
module under `actions/` (which imports this package) at start-up.
"""
