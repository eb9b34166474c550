"""Rasa stores of this project (imported by Rasa from bot/endpoints*.yml)."""
