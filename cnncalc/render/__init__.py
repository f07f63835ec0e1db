"""Renderers: a report in, text out — tables (rich), JSON, CSV, Markdown. No arithmetic here."""
