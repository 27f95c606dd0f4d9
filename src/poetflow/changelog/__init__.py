"""Changelogs from conventional commits: CHANGELOG.md/.json per package, one at the root."""
