"""Status page delivery: public routes, the render cache and its fast path, custom
domains, static assets."""
