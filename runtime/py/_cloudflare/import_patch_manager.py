"""Import hooks active only while the Worker's modules are imported (the "startup" phase).

API used by the SDK's ``_workers_sdk_entropy_import_context.py`` and
``_workers_sdk_package_patches.py``: ``register_exec_patch``, ``register_create_patch``,
``register_before_first_request``, ``register_after_snapshot`` and ``block_calls``. As in
production, the finder is removed before the first request, so modules first imported during
a request are not patched.
"""

import sys
from functools import wraps
from importlib.machinery import ExtensionFileLoader

from . import _state

EXEC_PATCHES = {}
CREATE_PATCHES = {}
BEFORE_FIRST_REQUEST = {}
AFTER_SNAPSHOT = {}
_ORIGINAL_MODULES = {}


def _registrar(table):
    def register(name):
        def decorator(fn):
            table[name] = fn
            return fn

        return decorator

    return register


register_exec_patch = _registrar(EXEC_PATCHES)
register_create_patch = _registrar(CREATE_PATCHES)
register_before_first_request = _registrar(BEFORE_FIRST_REQUEST)
# The local runtime takes no memory snapshot, so these hooks never have a reason to run.
register_after_snapshot = _registrar(AFTER_SNAPSHOT)


class _ExecLoader:
    def __init__(self, loader, context):
        self._loader = loader
        self._context = context

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def exec_module(self, module):
        with self._context(module):
            self._loader.exec_module(module)


class _CreateLoader:
    def __init__(self, loader, context):
        self._loader = loader
        self._context = context

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        with self._context(spec):
            return self._loader.create_module(spec)


class PatchFinder:
    def invalidate_caches(self):
        pass

    def find_spec(self, fullname, path, target=None):
        exec_ctx = EXEC_PATCHES.get(fullname)
        create_ctx = CREATE_PATCHES.get(fullname)
        if exec_ctx is None and create_ctx is None:
            return None
        for finder in sys.meta_path:
            if isinstance(finder, PatchFinder) or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if create_ctx is not None or (
            isinstance(spec.loader, ExtensionFileLoader) and fullname != "numpy.random.mtrand"
        ):
            spec.loader = _CreateLoader(spec.loader, create_ctx or exec_ctx)
        else:
            spec.loader = _ExecLoader(spec.loader, exec_ctx)
        return spec


def install():
    sys.meta_path.insert(0, PatchFinder())


def remove():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, PatchFinder)]
    _state.in_request_context = True
    for name, module in _ORIGINAL_MODULES.items():
        sys.modules[name] = module
    for name, hook in BEFORE_FIRST_REQUEST.items():
        module = sys.modules.get(name)
        if module is not None:
            hook(module)


def block_calls(module, *, allowlist=()):
    """Replace ``module`` in sys.modules by a proxy whose callables raise until a request runs."""
    _ORIGINAL_MODULES[module.__name__] = module
    sys.modules[module.__name__] = BlockedCallModule(module, allowlist)


class BlockedCallModule:
    def __init__(self, module, allowlist):
        object.__setattr__(self, "_mod", module)
        object.__setattr__(self, "_allow", tuple(allowlist))

    def __getattribute__(self, key):
        mod = object.__getattribute__(self, "_mod")
        orig = getattr(mod, key)
        if _state.in_request_context or not callable(orig):
            return orig
        # Classes are guarded too (production wraps every callable), so only the allowlist
        # (random.Random with a seed, SystemRandom) can be constructed at import time.
        if key in object.__getattribute__(self, "_allow"):
            return orig

        @wraps(orig)
        def guarded(*args, **kwargs):
            if not _state.in_request_context:
                raise RuntimeError(f"Cannot use {mod.__name__}.{key}() outside of request context")
            return orig(*args, **kwargs)

        return guarded

    def __setattr__(self, key, value):
        setattr(object.__getattribute__(self, "_mod"), key, value)

    def __dir__(self):
        return dir(object.__getattribute__(self, "_mod"))
