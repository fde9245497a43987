"""Extractors for structured input formats: each turns a file's text into a Document."""
