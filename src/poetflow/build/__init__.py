"""``poetflow build``: staging, backends, verification, fingerprints; the engine in ``engine``."""
