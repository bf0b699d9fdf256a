"""cellscape.propagation."""
