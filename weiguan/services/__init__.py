"""The rules of the product. Plain async classes; no Sanic, no SQL."""
