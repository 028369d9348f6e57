"""Fixtures for the server tests live in server_fixtures.py (imported by name,
so they never clash with another folder's conftest module)."""

from server_fixtures import server  # noqa: F401  (the fixture)
