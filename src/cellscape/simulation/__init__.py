"""cellscape.simulation."""
