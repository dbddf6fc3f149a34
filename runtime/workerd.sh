#!/bin/sh
# MINIFLARE_WORKERD_PATH for runtime/dev.mjs: miniflare runs `<this> serve --binary ... -`.
# workerd also needs the directory holding the locally built Pyodide bundle (or it would try to
# download one) and, when dev.mjs asks for it, the Python memory snapshot to save or restore.
command=$1
shift
if [ -n "$LOCAL_PYTHON_SNAPSHOT_DIR" ]; then
  if [ -n "$LOCAL_PYTHON_LOAD_SNAPSHOT" ]; then
    set -- --python-snapshot-dir="$LOCAL_PYTHON_SNAPSHOT_DIR" \
      --python-load-snapshot="$LOCAL_PYTHON_LOAD_SNAPSHOT" "$@"
  else
    set -- --python-snapshot-dir="$LOCAL_PYTHON_SNAPSHOT_DIR" --python-save-snapshot "$@"
  fi
fi
exec "$LOCAL_WORKERD_BINARY" "$command" \
  --pyodide-bundle-disk-cache-dir="$LOCAL_PYODIDE_BUNDLE_DIR" "$@"
