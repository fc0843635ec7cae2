"""Orchestration of sync passes: the engine (the only code that performs actions), the host
view it reads and writes, and the link store."""
