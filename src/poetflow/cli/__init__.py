"""The ``poetflow`` command line: a thin typer adapter over the engine."""
