"""Scripts run by Inspect AI's own virtual environment (never imported by mendoza's): each runs one eval and
prints one JSON line of figures."""
