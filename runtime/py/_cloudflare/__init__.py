"""Local stand-in for workerd's internal ``_cloudflare`` package.

The vendored SDK's ``_workers_sdk_patch_loader.pth`` only installs its entropy and package
patches when ``_cloudflare`` is importable, which in production is always true. Providing the
same API here makes the local runtime load those patches the way production does.
Written for the local runtime; the API mirrors what the SDK imports, not workerd's code.
"""
