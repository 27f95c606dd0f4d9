"""``poetry.lock`` files: freshness as Poetry judges it, what ``poetry install`` selects,
a release's edits, refreshing them."""
