"""callprobe: probes."""
