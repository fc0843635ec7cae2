"""Use cases shared by the REST API, the CLI and the workers; each write is one transaction."""
