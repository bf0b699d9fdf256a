"""cellscape.antenna."""
