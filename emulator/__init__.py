"""Offline emulator of Cloudflare's Workers AI REST API (`/client/v4/accounts/{id}/ai/run/{model}`).

It speaks the same protocol as api.cloudflare.com so the project's `env.AI` shim can point at
either one. Modules: `server` (HTTP, routing, streaming), `models` (the model table), `schema`
(JSON-schema validation with Workers AI's messages), `errors` (codes and envelopes), `controls`
(fault injection, scripted answers, request log), one module per model family (`text`, `guard`,
`embeddings`, `images`, `speech`, `translation`) and `audio` (valid MP3/WAV/OGG/FLAC/AAC bytes).
"""

from emulator.server import Emulator, start

__all__ = ["Emulator", "start"]
