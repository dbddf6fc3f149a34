"""runtime/pyodide_bundle.py: the patch set fails loudly, and the Cap'n Proto layout is right."""

from __future__ import annotations

import struct

import pytest

from runtime.pyodide_bundle import (
    REPLACEMENTS,
    PatchError,
    encode_bundle,
    patch_pyodide_asm,
)


def test_a_missing_pattern_names_every_mismatch():
    with pytest.raises(PatchError) as caught:
        patch_pyodide_asm("function loadLibData(){return 1}Date.now()")
    message = str(caught.value)
    assert "'Date.now': expected 22 matches, found 1" in message
    assert "'new WebAssembly.Module': expected 4 matches, found 0" in message


def test_patched_source_imports_the_binarys_helpers_and_exports_the_factory():
    src = "".join(pattern * count for pattern, _, count in REPLACEMENTS)
    src += "function loadLibData(){if(a){return {b}}return c}"
    out = patch_pyodide_asm(src)
    assert out.startswith("import { newWasmModule,")
    assert 'from "pyodide-internal:builtin_wrappers"' in out
    assert "export { _createPyodideModule };" in out
    assert "eval(" not in out
    assert (
        "function loadLibData(){var libData=patchedLoadLibData(Module,libName,flags.rpath);" in out
    )
    assert "return c}" not in out


def _pointer(message: bytes, word: int) -> tuple[int, int, int]:
    lo, hi = struct.unpack_from("<II", message, 8 + word * 8)
    return word + 1 + (lo >> 2), lo & 3, hi


def test_bundle_layout():
    message = encode_bundle([("m:a", "src", b"xyz"), ("m:b", "wasm", b"\0asm")])
    assert struct.unpack_from("<II", message) == (0, (len(message) - 8) // 8)
    bundle, kind, _ = _pointer(message, 0)
    assert kind == 0  # struct
    tag, kind, size = _pointer(message, bundle)
    assert (kind, size & 7, size >> 3) == (1, 7, 2 * 5)  # composite list of 2 × 5 words
    count_field, data_words, pointers = struct.unpack_from("<IHH", message, 8 + tag * 8)
    assert (count_field >> 2, data_words, pointers) == (2, 1, 4)
    second = tag + 1 + 5
    assert struct.unpack_from("<HH", message, 8 + second * 8) == (2, 1)  # internal, wasm
    name, kind, size = _pointer(message, second + 1)
    assert (kind, size >> 3) == (1, 4)
    assert message[8 + name * 8 : 8 + name * 8 + 4] == b"m:b\0"
