"""CaseCal's benchmark: sync scenarios against the emulators in a separate process
(``python -m bench``; see bench/README.md)."""
