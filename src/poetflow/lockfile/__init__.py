"""``poetry.lock`` files: freshness as Poetry judges it, a release's edits, refreshing them."""
