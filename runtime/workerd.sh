#!/bin/sh
# MINIFLARE_WORKERD_PATH for runtime/dev.mjs: miniflare runs `<this> serve --binary ... -`;
# workerd also needs the directory holding the locally built Pyodide bundle, or it would try
# to download one. LOCAL_WORKERD_ARGS may add more (e.g. snapshot flags).
command=$1
shift
exec "$LOCAL_WORKERD_BINARY" "$command" --pyodide-bundle-disk-cache-dir="$LOCAL_PYODIDE_BUNDLE_DIR" $LOCAL_WORKERD_ARGS "$@"
