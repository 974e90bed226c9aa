"""callprobe: api."""
