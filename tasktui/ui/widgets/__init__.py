"""Reusable widgets: the task table, filter sidebar, header, notice, empty state, status look,
JSON view and media preview. Each keeps its own DEFAULT_CSS."""
