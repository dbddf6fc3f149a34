# Shared mutable state of the import phase; a module so every importer sees the same values.
allowance = 0
in_request_context = False
