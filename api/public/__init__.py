"""Status page delivery: public routes, renderings (cached, rate-limited when not) and
their responses, the fast path, page URLs, custom domains, static assets."""
