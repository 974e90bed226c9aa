"""Who may call: API keys, agent and push tokens, the admin token; secrets at rest."""
