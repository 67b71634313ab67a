"""Hand-written word lists (places, first names) that several stages share."""
