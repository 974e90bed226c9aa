"""callprobe: media."""
