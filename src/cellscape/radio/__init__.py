"""cellscape.radio."""
