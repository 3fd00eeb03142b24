"""Side-by-side benchmark of the starters: `python -m bench` (see bench/README.md)."""
