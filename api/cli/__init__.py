"""The ``callprobe`` command line: commands, local calls, the demo, terminal tables."""
