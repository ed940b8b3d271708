"""Bulk import and export of associations for the Cell (CSV and JSON)."""
