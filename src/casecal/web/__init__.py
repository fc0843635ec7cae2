"""HTTP surface: the REST API, OAuth callbacks, webhook receivers and the server-rendered UI."""
