"""Versions from conventional commits: plan the next version of each package, then write it."""
