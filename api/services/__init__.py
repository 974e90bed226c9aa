"""What the routes and the CLI ask for: ingest, judging, the sweeper."""
