"""Self-contained format libraries with no knowledge of the API: languages, PNG, subtitles."""
