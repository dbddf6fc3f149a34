"""Python half of the local runtime: search path, import-time entropy ban, request dispatch.

Executed by runtime/worker.mjs into a module that is not on the Worker's sys.path.
"""

import errno
import importlib
import os
import random
import site
import sys
from inspect import isawaitable

from _cloudflare import _state
from _cloudflare import import_patch_manager as ipm
from _cloudflare.allow_entropy import take_allowance
from pyodide.code import relaxed_call

WORKER_DIR = "/session/metadata"
PYTHON_MODULES = WORKER_DIR + "/python_modules"


def setup_search_path(process_pth_files):
    # Production order: the Worker's own modules shadow everything, python_modules sits just
    # before site-packages (workerd setup_python_search_path).
    sys.path[:] = [p for p in sys.path if p not in ("", WORKER_DIR, PYTHON_MODULES)]
    sys.path.insert(0, WORKER_DIR)
    for i, path in enumerate(sys.path):
        if "site-packages" in path:
            sys.path.insert(i, PYTHON_MODULES)
            break
    else:
        sys.path.append(PYTHON_MODULES)
    # A path probed before it was mounted caches a None finder (ModuleNotFoundError later).
    for path in (WORKER_DIR, PYTHON_MODULES):
        sys.path_importer_cache.pop(path, None)
    if process_pth_files:
        site.addsitedir(PYTHON_MODULES)


_real_urandom = os.urandom


def _guarded_urandom(n):
    if not _state.in_request_context and not take_allowance():
        raise OSError(errno.EIO, "Cannot get entropy outside of request context")
    return _real_urandom(n)


def _begin_import_phase():
    _state.in_request_context = False
    os.urandom = _guarded_urandom
    # SystemRandom (and so `secrets`) reads random's private alias, bound at its import.
    random._urandom = _guarded_urandom
    # npm Pyodide imports `random` at boot, before any import hook could see it.
    ipm.block_calls(random, allowlist=("Random", "SystemRandom"))
    ipm.install()


def _end_import_phase():
    os.urandom = _real_urandom
    random._urandom = _real_urandom
    ipm.remove()
    # The state may have been derived from boot-time entropy shared by every start; production
    # reseeds before the first request for the same reason (its snapshot).
    random.seed()


def import_main_module(name):
    """Import the Worker under production's startup rules, then open the request phase."""
    _begin_import_phase()
    try:
        return importlib.import_module(name)
    finally:
        _end_import_phase()


def find_entrypoint(module, name="Default"):
    from workers import WorkerEntrypoint

    cls = getattr(module, name, None)
    if isinstance(cls, type) and issubclass(cls, WorkerEntrypoint):
        return cls
    return None


async def wrapper_func(relaxed, inst, prop, *args):
    # Same conversions as workerd's introspection.wrapper_func: arguments through
    # python_from_rpc (JS Request -> workers.Request), result through python_to_rpc.
    from workers import python_from_rpc, python_to_rpc

    method = getattr(inst, prop)
    py_args = [python_from_rpc(arg) for arg in args]
    result = relaxed_call(method, *py_args) if relaxed else method(*py_args)
    if isawaitable(result):
        result = await result
    return python_to_rpc(result)
