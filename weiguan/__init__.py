"""weiguan (围观): the backend of a small social app."""
