"""termsledger: the application layer (command line, HTTP API, configuration)."""
