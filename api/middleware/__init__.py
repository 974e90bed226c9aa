"""ASGI middleware at the edge: body limits, client addresses, rate limits, access logs."""
