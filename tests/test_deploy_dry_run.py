"""`wrangler deploy --dry-run` must accept and bundle the Worker, offline, and the local
runtime must load exactly that bundle."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NODE_BIN = REPO_ROOT / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory) -> tuple[str, Path]:
    """(wrangler's output, the --outdir with the files it would upload)."""
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
    out = tmp_path_factory.mktemp("dry-run") / "bundle"
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
    return output, out


def test_wrangler_dry_run_bundles_the_worker_and_the_sdk(dry_run):
    output, out = dry_run

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


def test_the_local_runtime_loads_exactly_what_deploy_uploads(dry_run):
    """runtime/modules.mjs (what `make dev` hands workerd) against wrangler: names, types and
    bytes. wrangler prints names and types of the Worker's own modules; vendored ones are only
    summed up, so their names come from the outdir and their types from wrangler's rule (the
    SDK's `workers/*.js` are ES modules, the rest data)."""
    output, out = dry_run
    result = subprocess.run(
        [str(NODE_BIN / "node"), "runtime/modules.mjs"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    local = [json.loads(line) for line in result.stdout.splitlines()]
    main, *additional = local
    assert (main["name"], main["type"]) == ("entry.py", "python")

    rows = re.findall(r"^│ (\S+)\s+│ (\S+)\s+│", output, re.M)
    listed = [(name, type_) for name, type_ in rows if name != "Name"]
    own = [
        (m["name"], m["type"]) for m in additional if not m["name"].startswith("python_modules/")
    ]
    assert sorted(own) == sorted(listed)  # wrangler lists in directory order
    total = re.search(r"Total \((\d+) modules\)", output)
    assert total and int(total.group(1)) == len(additional)

    uploaded = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    uploaded.discard("README.md")  # wrangler's note about the outdir, not a module
    assert {m["name"] for m in local} == uploaded
    for m in local:
        if m["name"].startswith("python_modules/"):
            sdk_js = re.fullmatch(r"python_modules/workers/.*\.m?js", m["name"])
            assert m["type"] == ("esm" if sdk_js else "buffer"), m
        assert hashlib.sha256((out / m["name"]).read_bytes()).hexdigest() == m["sha256"], m
