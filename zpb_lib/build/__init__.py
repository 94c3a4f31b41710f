"""Batch build of an edition's reports: plan, execute, export (HTML/PDF), index page, manifest."""
