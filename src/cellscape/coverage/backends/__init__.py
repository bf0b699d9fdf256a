"""cellscape.coverage.backends."""
