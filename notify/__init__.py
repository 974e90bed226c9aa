"""callprobe: notify."""
