"""People of an organization: accounts beside its API clients, their roles, and their browser sessions."""
