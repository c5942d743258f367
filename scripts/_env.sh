# Sourced by scripts/run and scripts/test: make sure .venv exists and holds the project.
# Reinstalls only when pyproject.toml changed, so a second run starts at once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
EXTRAS="${1:-}"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 ou plus récent est nécessaire (trouvé : $("$PY" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Création de l'environnement Python (.venv)…"
  "$PY" -m venv .venv || {
    echo "Impossible de créer .venv : sur Debian/Ubuntu, installez le paquet python3-venv." >&2
    exit 1
  }
fi
STAMP=".venv/.installed${EXTRAS:+-$EXTRAS}"
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "Installation des dépendances…"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${EXTRAS:+[$EXTRAS]}"
  echo "$WANT" > "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
