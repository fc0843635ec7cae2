"""Profiles of the sync engine and the scripts that read them."""
