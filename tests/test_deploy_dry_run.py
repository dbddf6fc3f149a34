"""`wrangler deploy --dry-run` must accept and bundle the Worker, offline."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NODE_BIN = REPO_ROOT / "node_modules" / ".bin"


def test_wrangler_dry_run_bundles_the_worker_and_the_sdk(tmp_path):
    if not (NODE_BIN / "wrangler").exists():
        pytest.fail("node_modules/.bin/wrangler is missing: run `make install`")
    if not (REPO_ROOT / "python_modules" / "workers" / "__init__.py").exists():
        pytest.fail("python_modules/ has no workers SDK: run `make vendor`")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CLOUDFLARE_") and k not in ("WRANGLER_LOG",)
    }
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
    # A dry run needs no account; keep wrangler from phoning home so this passes offline.
    env["WRANGLER_SEND_METRICS"] = "false"
    env["CI"] = "1"
    out = tmp_path / "bundle"
    result = subprocess.run(
        [str(NODE_BIN / "wrangler"), "deploy", "--dry-run", "--outdir", str(out)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "--dry-run: exiting now." in output

    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert "entry.py" in files, sorted(files)
    assert (out / "entry.py").read_text() == (REPO_ROOT / "src" / "entry.py").read_text()
    for module in ("__init__.py", "entrypoints.py", "rpc.py", "request.py", "response.py"):
        assert f"python_modules/workers/{module}" in files, sorted(files)
    # The .pth that loads the SDK's patches in production (python_process_pth_files).
    assert "python_modules/_workers_sdk_patch_loader.pth" in files
    # Every Python module of the Worker ships.
    for source in (REPO_ROOT / "src").rglob("*.py"):
        assert source.relative_to(REPO_ROOT / "src").as_posix() in files
    # The streaming hot loop ships as an ES module (wrangler.toml `rules`), or the adapter's
    # import of it fails on the first streamed reply.
    assert "bridge/sse_splice.mjs" in files
    assert re.search(r"bridge/sse_splice\.mjs\s*│\s*esm\b", output), output
    # The playground page (wrangler.toml [assets]) is uploaded beside the Worker.
    assert re.search(r"Read \d+ files from the assets directory \S+/public\b", output), output
