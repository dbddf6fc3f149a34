"""Calls to services other than the client: Workers AI runs and image storage."""
