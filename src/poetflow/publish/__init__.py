"""``poetflow publish``: repositories, credentials, uploads; the engine in ``engine``."""
