"""CI systems: one module each behind one seam (``system``), a registry, the hand-over,
action inputs turned into argv, and the container adapter."""
