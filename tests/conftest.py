"""Shared test setup: the Worker's modules import as top-level names, as on Workers."""
