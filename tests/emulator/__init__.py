"""Contract tests of the Workers AI emulator over HTTP."""
