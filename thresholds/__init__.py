"""callprobe: thresholds."""
