"""callprobe: statuspages."""
