"""cellscape.cli."""
