"""Blueprints, one per concern: integrations list, Exact login, setup steps, errors."""
