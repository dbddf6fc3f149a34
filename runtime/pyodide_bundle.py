"""Build workerd's `pyodide_dev.capnp.bin` from npm `pyodide`, offline.

workerd downloads its Pyodide bundle at startup unless `--pyodide-bundle-disk-cache-dir` holds
one; production releases are checked against a hash compiled into the binary, the release `dev`
(selected by `python_workers_development`) is not. This writes that `dev` bundle: three internal
modules, Pyodide's Emscripten module patched the way workerd's own build patches it
(shared/reference/workerd-offline.md §3). Every pattern's match count is checked, so a Pyodide
whose code moved fails here instead of giving a bundle that breaks at the first request.

Usage: python runtime/pyodide_bundle.py [--pyodide DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PYODIDE = REPO_ROOT / "node_modules" / "pyodide"
DEFAULT_OUT = REPO_ROOT / ".cache" / "pyodide-bundle" / "pyodide_dev.capnp.bin"
MODULE_PREFIX = "pyodideRuntime-internal:"

# What the patched module imports from the binary's own helpers.
PRELUDE = (
    "import { newWasmModule, wasmInstantiate, monotonicDateNow, getRandomValues,"
    " patchedLoadLibData, location, addEventListener }"
    ' from "pyodide-internal:builtin_wrappers";\n'
    "function reportUndefinedSymbolsPatched(Module) { Module.reportUndefinedSymbols(); }\n"
)
NO_EVAL = "(() => { throw new Error('Emscripten tried to eval, which workerd forbids'); })()"

# (pattern, replacement, expected match count). Counts are for the pinned Pyodide: a change
# means its generated code changed and the patch set needs a look.
REPLACEMENTS: list[tuple[str, str, int]] = [
    ("new WebAssembly.Module", "newWasmModule", 4),
    ("WebAssembly.instantiate", "wasmInstantiate", 3),
    ("Date.now", "monotonicDateNow", 22),
    ("crypto.getRandomValues(", "getRandomValues(Module, ", 1),
    ("eval(func)", NO_EVAL, 2),
    ("eval(data)", NO_EVAL, 1),
    ("eval(UTF8ToString(ptr))", NO_EVAL, 3),
    ("getMemory(", "Module.getMemoryPatched(Module, libName, ", 1),
    ("reportUndefinedSymbols()", "reportUndefinedSymbolsPatched(Module)", 3),
    (
        "export default _createPyodideModule;",
        "export { _createPyodideModule };\nexport default _createPyodideModule;",
        1,
    ),
]
LOAD_LIB_DATA = "function loadLibData(){"
LOAD_LIB_DATA_BODY = (
    "var libData=patchedLoadLibData(Module,libName,flags.rpath);"
    "return flags.loadAsync?Promise.resolve(libData):libData}"
)


class PatchError(RuntimeError):
    """A pattern did not match as expected: the Pyodide version changed under the patch set."""


def _replace_function_body(src: str, head: str, body: str) -> str:
    """Replace the body of the one function starting with `head` (braces matched)."""
    if src.count(head) != 1:
        raise PatchError(f"expected 1 {head!r} in pyodide.asm.mjs, found {src.count(head)}")
    start = src.index(head) + len(head)
    depth, i = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(src[i], 0)
        i += 1
    return src[:start] + body + src[i:]


def patch_pyodide_asm(src: str) -> str:
    """Pyodide's Emscripten module, as workerd's build patches it."""
    problems = []
    for pattern, replacement, expected in REPLACEMENTS:
        found = src.count(pattern)
        if found != expected:
            problems.append(f"{pattern!r}: expected {expected} matches, found {found}")
        src = src.replace(pattern, replacement)
    if problems:
        raise PatchError(
            "pyodide.asm.mjs does not match the patch set (a different Pyodide?):\n  "
            + "\n  ".join(problems)
        )
    src = _replace_function_body(src, LOAD_LIB_DATA, LOAD_LIB_DATA_BODY)
    if "eval(" in src:
        raise PatchError("pyodide.asm.mjs still calls eval( after patching")
    return PRELUDE + src


# --- Cap'n Proto, by hand ----------------------------------------------------------------
# struct Bundle { modules @0 :List(Module) }                  (0 data words, 1 pointer)
# struct Module { name @0 :Text; union { src @1 :Data; wasm @4 :Data; data @5 :Data;
#   json @6 :Text }; type @2 :ModuleType; tsDeclaration @3 :Text; compileCache @7 :Data }
# Layout (fields in ordinal order): pointers name=0, union=1, tsDeclaration=2, compileCache=3;
# data word 0: type in bits 0-15, the union discriminant (allocated with its 2nd member) 16-31.
MODULE_DATA_WORDS, MODULE_POINTERS = 1, 4
UNION_TAGS = {"src": 0, "wasm": 1, "data": 2, "json": 3}
TYPE_INTERNAL = 2  # enum ModuleType { bundle @0; builtin @1; internal @2 }


class _Segment:
    def __init__(self) -> None:
        self.buf = bytearray()

    def alloc(self, words: int) -> int:
        at = len(self.buf) // 8
        self.buf += bytes(8 * words)
        return at

    def struct_ptr(self, at: int, target: int, data_words: int, pointers: int) -> None:
        offset = (target - at - 1) & 0x3FFFFFFF
        struct.pack_into("<IHH", self.buf, at * 8, offset << 2, data_words, pointers)

    def list_ptr(self, at: int, target: int, size_tag: int, count: int) -> None:
        offset = (target - at - 1) & 0x3FFFFFFF
        struct.pack_into("<II", self.buf, at * 8, (offset << 2) | 1, (count << 3) | size_tag)

    def blob(self, at: int, payload: bytes) -> None:
        """A byte list (Data, or Text with its NUL already appended) for the pointer at `at`."""
        target = self.alloc((len(payload) + 7) // 8)
        self.buf[target * 8 : target * 8 + len(payload)] = payload
        self.list_ptr(at, target, 2, len(payload))


def encode_bundle(modules: list[tuple[str, str, bytes]]) -> bytes:
    """`(name, field, content)` modules, all `internal`, as a one-segment capnp message."""
    seg = _Segment()
    root = seg.alloc(1)
    bundle = seg.alloc(1)
    seg.struct_ptr(root, bundle, 0, 1)
    size = MODULE_DATA_WORDS + MODULE_POINTERS
    tag = seg.alloc(1 + size * len(modules))
    seg.list_ptr(bundle, tag, 7, size * len(modules))
    # The composite list's tag: element count in the offset field, then each element's size.
    count_field = len(modules) << 2
    struct.pack_into("<IHH", seg.buf, tag * 8, count_field, MODULE_DATA_WORDS, MODULE_POINTERS)
    for i, (name, field, content) in enumerate(modules):
        base = tag + 1 + i * size
        struct.pack_into("<HH", seg.buf, base * 8, TYPE_INTERNAL, UNION_TAGS[field])
        pointers = base + MODULE_DATA_WORDS
        seg.blob(pointers, name.encode() + b"\0")
        seg.blob(pointers + 1, content + b"\0" if field == "json" else content)
    header = struct.pack("<II", 0, len(seg.buf) // 8)
    return header + bytes(seg.buf)


def build(pyodide_dir: Path) -> bytes:
    asm = patch_pyodide_asm((pyodide_dir / "pyodide.asm.mjs").read_text(encoding="utf-8"))
    wasm = (pyodide_dir / "pyodide.asm.wasm").read_bytes()
    stdlib = (pyodide_dir / "python_stdlib.zip").read_bytes()
    return encode_bundle(
        [
            (MODULE_PREFIX + "pyodide.asm", "src", asm.encode()),
            (MODULE_PREFIX + "pyodide.asm.wasm", "wasm", wasm),
            (MODULE_PREFIX + "python_stdlib.zip", "data", stdlib),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyodide", type=Path, default=DEFAULT_PYODIDE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    version = json.loads((args.pyodide / "package.json").read_text())["version"]
    try:
        bundle = build(args.pyodide)
    except PatchError as e:
        print(f"✘ cannot build the Pyodide bundle from npm pyodide {version}: {e}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_bytes(bundle)
    tmp.replace(args.out)
    (args.out.parent / "pyodide-version").write_text(version + "\n")
    print(f"Pyodide {version} bundle: {args.out} ({len(bundle) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
