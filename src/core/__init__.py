"""What every route shares: the exchange types, errors, settings, auth, CORS and validation."""
