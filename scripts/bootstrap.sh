#!/usr/bin/env bash
# Set up a fresh machine for gridmap: system packages (PostGIS; for tests Chromium and a
# CJK font), the virtualenv in .venv with the project installed. Idempotent and quick
# when everything is already there. Usage: scripts/bootstrap.sh run|test
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-run}
python=${PYTHON:-python3}

say() { printf 'bootstrap: %s\n' "$*" >&2; }

# --- system packages ---------------------------------------------------------------
missing=()
if [ -z "${GRIDMAP_DATABASE_URL:-}" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -n 1 || true)
  if [ -z "$pg_bin" ] && ! command -v pg_ctl >/dev/null; then
    say "PostgreSQL server binaries not found: install postgresql-15 (apt-get install postgresql-15), or set GRIDMAP_DATABASE_URL"
    exit 1
  fi
  pg_version=$(basename "$(dirname "${pg_bin:-/usr/lib/postgresql/15/bin}")")
  share=$("${pg_bin}/pg_config" --sharedir 2>/dev/null || echo "/usr/share/postgresql/$pg_version")
  [ -f "$share/extension/postgis.control" ] || missing+=("postgresql-${pg_version}-postgis-3")
fi
if [ "$purpose" = test ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
  command -v ogr2ogr >/dev/null || missing+=(gdal-bin)  # Debian's GDAL 3.6: the tests read exports, OAPIF and MVT with it
  command -v wrk >/dev/null || missing+=(wrk)  # bench/load --workers: 1 vs N workers
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"
  else
    say "missing system packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]} (apt-get)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's QGIS 3.22 (PyQGIS, headless, without the desktop's recommends): tests/api/test_ogc_qgis.py
# connects to the service as a planner's QGIS does. Best effort: without it that test is skipped.
if [ "$purpose" = test ] && [ ! -d /usr/lib/python3/dist-packages/qgis ] && [ -z "${GRIDMAP_NO_QGIS:-}" ]; then
  if [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
    say "installing python3-qgis qgis-providers (apt-get, ~170 packages; GRIDMAP_NO_QGIS=1 skips)"
    [ "$(id -u)" = 0 ] && sudo="" || sudo="sudo"
    [ ${#missing[@]} -gt 0 ] || $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-qgis qgis-providers \
      >/dev/null || say "python3-qgis did not install: the QGIS client test will be skipped"
  else
    say "python3-qgis is not installed (the QGIS client test is skipped): sudo apt-get install python3-qgis qgis-providers"
  fi
fi

# --- Python ----------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($python --version)"
  $python -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  say "installing gridmap and its dependencies into .venv (pip)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
