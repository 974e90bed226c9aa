"""callprobe: store."""
