"""Repository functions: the only code that builds queries. Write functions commit."""
