"""Helpers for the cleaning stage, one concept per module; the entry point is tasks.clean."""
