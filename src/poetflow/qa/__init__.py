"""``poetflow test``: each package's QA in its environment; the engine in ``engine``."""
