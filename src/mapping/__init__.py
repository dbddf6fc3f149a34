"""Pure OpenAI <-> Workers AI mapping, one module per API family, and the model catalog."""
