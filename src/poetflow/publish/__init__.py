"""``poetflow publish``: targets (an index, a publisher plugin), credentials, the engine."""
