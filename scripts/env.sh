# Sourced by scripts/test and scripts/demo: builds (or refreshes) the pinned virtualenv of one
# Airflow version from nothing but python3 and the package index.
#   airflow_env 3.3.2   -> prints the venv's path, e.g. .venv/airflow-3.3.2
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
TOOLS="$ROOT/.venv/tools"
UV_VERSION=0.13.9

uv_bin() {
  if [ ! -x "$TOOLS/bin/uv" ]; then
    echo "==> installing uv $UV_VERSION into .venv/tools" >&2
    "$PYTHON" -m venv "$TOOLS" >&2
    "$TOOLS/bin/python" -m pip install --quiet "uv==$UV_VERSION" >&2
  fi
  echo "$TOOLS/bin/uv"
}

airflow_env() {
  local version=$1 uv venv stamp want
  uv=$(uv_bin)
  venv="$ROOT/.venv/airflow-$version"
  want=$(cat "$ROOT/constraints/airflow-$version.txt" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)
  stamp="$venv/.stamp"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> building .venv/airflow-$version (Airflow $version, pinned by constraints/airflow-$version.txt)" >&2
    rm -rf "$venv"
    "$uv" venv --quiet --python "$PYTHON" "$venv" >&2
    VIRTUAL_ENV="$venv" "$uv" pip install --quiet --compile-bytecode -c "$ROOT/constraints/airflow-$version.txt" \
      "apache-airflow==$version" "$ROOT[test,docs]" >&2
    echo "$want" > "$stamp"
  else
    # The environment is current; only this checkout's code may have changed.
    VIRTUAL_ENV="$venv" "$uv" pip install --quiet --compile-bytecode --no-deps --reinstall-package airflow-provider-stripe \
      "$ROOT" >&2
  fi
  echo "$venv"
}
