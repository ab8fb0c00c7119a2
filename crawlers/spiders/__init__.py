"""One spider per platform; each file is named after its spider."""
