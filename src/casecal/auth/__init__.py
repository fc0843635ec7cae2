"""Authentication: API bearer tokens (stored hashed); OAuth flows for providers live beside."""
