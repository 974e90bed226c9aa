"""callprobe: test and demo peers, the echo reflector and the impairment relay.

They stand in for the far end and the network in tests, benches and the demo;
the agent never imports them (an import-linter contract says so).
"""
