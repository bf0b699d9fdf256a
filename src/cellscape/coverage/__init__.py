"""cellscape.coverage."""
