"""The operator console: server-rendered pages (Jinja2, autoescaped) for people, a client
of the same route functions and services as the API, so no rule is implemented twice."""
