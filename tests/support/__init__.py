"""Helpers shared by integration tests beyond the fixtures of tests/conftest.py."""
