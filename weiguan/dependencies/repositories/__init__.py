"""One repository per aggregate. They own every SQL statement and return plain dicts."""
