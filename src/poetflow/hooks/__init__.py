"""Hooks: their settings (``config``), how one runs (``running``), the stage wrapper (``stage``)."""
