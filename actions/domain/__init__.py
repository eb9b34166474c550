"""Domain rules of the hotline: identity checks, lookups, tickets, audit. Nothing here imports Rasa."""
