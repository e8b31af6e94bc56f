# Sourced by the entry scripts: makes .venv from pyproject.toml (idempotent; a no-op when the
# stamp matches) so a fresh machine needs nothing but Python 3.11+.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${STORELINE_VENV:-$ROOT/.venv}"
EXTRAS="${STORELINE_EXTRAS:-dev}"

find_python() {
  for cand in python3.13 python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  echo "storeline: Python 3.11 or newer is required" >&2
  return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  "$(find_python)" -m venv "$VENV"
fi
want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1) $EXTRAS"
if [ "$(cat "$VENV/.storeline-stamp" 2>/dev/null)" != "$want" ]; then
  echo "storeline: installing dependencies into $VENV ..." >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[$EXTRAS]" >&2
  echo "$want" > "$VENV/.storeline-stamp"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
