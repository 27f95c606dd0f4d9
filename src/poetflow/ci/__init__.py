"""CI systems: detect the one PoetFlow runs in, turn inputs into argv, hand results over."""
