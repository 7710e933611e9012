#!/usr/bin/env bash
# build-wheelhouse.sh — builds the till's wheelhouse: the kkt-adapter wheel and every pinned runtime
# dependency as wheels for CPython 3.11 on Debian 12 amd64, in build/wheelhouse/ (or $1). The till_adapter
# role copies it to each till and installs offline (pip --no-index); tills never reach PyPI.
# Reproducible: SOURCE_DATE_EPOCH is the last commit's time, so the adapter wheel's zip timestamps (and
# its sha256) only change when the code does.
# With --emulator DIR it also builds the KKT emulator's wheel (appliance/emulator, test tills only) into
# DIR, alone: its one dependency, kkt-adapter, is in the wheelhouse. Production tills never get DIR.
# Usage: appliance/build-wheelhouse.sh [--emulator DIR] [OUT_DIR]   (needs python3.11 with pip; PyPI)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
emulator_out=""
if [[ ${1:-} == --emulator ]]; then
  emulator_out="${2:?--emulator needs a directory}"
  shift 2
fi
out="${1:-$root/build/wheelhouse}"
python="${PYTHON:-python3.11}"
SOURCE_DATE_EPOCH="$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 315532800)"
export SOURCE_DATE_EPOCH
# Build in a fresh folder and swap it in, so a failed build never leaves a half wheelhouse behind.
mkdir -p "$(dirname "${out%/}")"
tmp="$(mktemp -d "${out%/}.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# Build from a clean copy of the package sources: a stale build/ or egg-info in the work tree must not
# leak files into the wheel.
src="$tmp/src"
mkdir -p "$src"
git -C "$root" ls-files -z -- appliance/pyproject.toml appliance/kkt_adapter appliance/emulator \
  | (cd "$root" && xargs -0 cp --parents -t "$src")
"$python" -m pip wheel --quiet --disable-pip-version-check --no-cache-dir \
  --constraint "$root/appliance/constraints.txt" --wheel-dir "$tmp/wheels" "$src/appliance"
if [[ -n $emulator_out ]]; then
  "$python" -m pip wheel --quiet --disable-pip-version-check --no-cache-dir --no-deps \
    --wheel-dir "$tmp/emulator" "$src/appliance/emulator"
  rm -rf "${emulator_out:?}"
  mkdir -p "$(dirname "${emulator_out%/}")"
  mv "$tmp/emulator" "$emulator_out"
  echo "emulator wheel: $emulator_out"
fi
rm -rf "${out:?}"
mv "$tmp/wheels" "$out"
echo "wheelhouse: $out"
(cd "$out" && sha256sum -- *.whl)
