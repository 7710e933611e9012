#!/usr/bin/env bash
# build-odoo-wheelhouse.sh — builds the central server's Odoo wheelhouse: every Python distribution the
# Odoo 17 venv of the central_odoo role needs, as wheels for Debian 12's CPython 3.11 (amd64), in one folder
# the role copies to the server and installs offline (pip --no-index --no-deps, exactly this set).
#
# What goes in:
#   - Odoo's requirements.txt (its python_version markers evaluated for 3.11), with their own dependencies;
#   - our addons' Python libraries, pinned once in addons/<addon>/requirements.txt (their manifests'
#     external_dependencies: openpyxl for connector_b);
#   - the OCA addons our addons depend on, as their odoo-addon-* wheels pinned in addons/oca-requirements.txt,
#     without their dependencies (each requires the `odoo` distribution, which on the server is the source
#     tree itself; their Python libraries are Odoo's own) — as tests/setup/odoo_bench.py does;
#   - setuptools: a runtime dependency (Odoo and gevent import pkg_resources).
# Test-only extras of the Odoo bench (websocket-client for HttpCase) are not production dependencies and
# stay out. Every transitive dependency is pinned in odoo-constraints.txt beside this script (also used by the
# isolated builds of sdists, through PIP_CONSTRAINT); a wheel pinned nowhere fails the build.
#
# Native code: wheels built here from sdists (psycopg2 against Debian's libpq — whose default socket folder
# is /var/run/postgresql, unlike psycopg2-binary's bundled libpq —, python-ldap, rjsmin) link to the build
# host's libraries, so the build host must be Debian 12 (checked). Every shared object of every wheel is
# checked: each library it needs is either bundled in the wheel (manylinux) or a file of a Debian 12 package;
# those packages are written to debian-packages.txt, which the role apt-installs on the server (libpq5,
# libldap-2.5-0, libsasl2-2, …).
#
# Output (OUT): the wheels, requirements.lock (name==version of each wheel: what the role installs),
# SHA256SUMS (the role names the venv after it) and debian-packages.txt. Built in a fresh folder and swapped
# in, so a failed build never leaves a half wheelhouse. Cached: OUT.stamp holds the sha256 of the inputs
# (the requirement files, the constraints, this script, the interpreter and the -dev packages' versions);
# when it matches and OUT is intact, nothing is rebuilt. Reproducible: the same inputs pin the same
# versions, and the wheels built here from sdists are bit-identical from one build to the next (checked:
# two builds with empty pip caches give the same SHA256SUMS).
#
# Usage: ansible/scripts/build-odoo-wheelhouse.sh [ODOO_SRC] [OUT]
#   ODOO_SRC  an Odoo 17.0 source tree (default /opt/odoo17)
#   OUT       output folder (default build/central/odoo-wheelhouse in the repository)
# Environment: PYTHON (default /usr/bin/python3.11, Debian's; needs python3-pip), and pip's own settings
# (index, mirrors). Needs Debian 12 with libpq-dev libldap2-dev libsasl2-dev python3-dev build-essential.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
src="${1:-/opt/odoo17}"
out="${2:-$root/build/central/odoo-wheelhouse}"
out="${out%/}"
python="${PYTHON:-/usr/bin/python3.11}"
constraints="$here/odoo-constraints.txt"
addons="$root/addons"
build_packages=(libpq-dev libldap2-dev libsasl2-dev python3-dev python3-pip build-essential)

die() {
  echo "build-odoo-wheelhouse: $*" >&2
  exit 1
}

# --- checks -------------------------------------------------------------------------------------------
# shellcheck source=/dev/null
. /etc/os-release
[[ ${ID:-} == debian && ${VERSION_ID:-} == 12 ]] ||
  die "build on Debian 12: wheels built from sdists link to the build host's libraries (this is ${PRETTY_NAME:-unknown})"
[[ -f $src/odoo-bin && -f $src/requirements.txt ]] || die "no Odoo tree at $src (odoo-bin, requirements.txt)"
grep -Eq "^version_info = \(17, 0," "$src/odoo/release.py" || die "$src is not Odoo 17.0 (odoo/release.py)"
[[ $("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])') == 3.11 ]] ||
  die "$python is not CPython 3.11 (Debian 12's interpreter, the server's)"
missing=()
for package in "${build_packages[@]}"; do
  dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
((${#missing[@]} == 0)) || die "missing build packages: apt-get install ${missing[*]}"

# --- cache --------------------------------------------------------------------------------------------
input_files=("$src/requirements.txt" "$addons/oca-requirements.txt" "$constraints" "$0")
mapfile -t addon_requirements < <(find "$addons" -mindepth 2 -maxdepth 2 -name requirements.txt | sort)
input_files+=("${addon_requirements[@]}")
digest="$(
  {
    for file in "${input_files[@]}"; do
      printf '%s\n' "${file##*/}"
      cat "$file"
    done
    "$python" -c 'import sys; print(sys.version)'
    dpkg-query -W -f '${Package}=${Version}\n' "${build_packages[@]}"
  } | sha256sum | cut -d' ' -f1
)"
stamp="$out.stamp"
if [[ -f $stamp && $(cat "$stamp") == "$digest" && -f $out/SHA256SUMS ]] &&
  (cd "$out" && sha256sum --quiet --strict -c SHA256SUMS); then
  echo "odoo wheelhouse: $out is up to date (inputs $digest)"
  exit 0
fi

# --- build --------------------------------------------------------------------------------------------
mkdir -p "$(dirname "$out")"
tmp="$(mktemp -d "$out.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
wheels="$tmp/wheels"
# Bit-identical rebuilds of the wheels built here from sdists: fixed timestamps inside the zips, and no debug
# information (it records pip's random build folder). The constraints also bind the isolated build
# environments of those sdists (setuptools/wheel versions).
export SOURCE_DATE_EPOCH=315532800 PYTHONHASHSEED=0 CFLAGS=-g0 PIP_CONSTRAINT="$constraints"
pip=("$python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$wheels")
requirement_args=(-r "$src/requirements.txt")
for file in "${addon_requirements[@]}"; do
  requirement_args+=(-r "$file")
done
started=$SECONDS
"${pip[@]}" "${requirement_args[@]}" setuptools
# The OCA addons alone (--no-deps): see the header.
"${pip[@]}" --no-deps -r "$addons/oca-requirements.txt"

# --- checks of the result, lock, checksums, Debian packages -------------------------------------------
"$python" - "$wheels" "$constraints" "$src/requirements.txt" "$addons/oca-requirements.txt" \
  "${addon_requirements[@]}" <<'EOF'
"""Every wheel pinned somewhere; every shared object's libraries bundled or from a Debian package."""
import re
import subprocess
import sys
import zipfile
from pathlib import Path

wheels, pin_files = Path(sys.argv[1]), sys.argv[2:]


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


pinned = set()
for path in pin_files:
    for line in Path(path).read_text().splitlines():
        found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==", line)
        if found:
            pinned.add(norm(found[1]))
lock, loose = [], []
for wheel in sorted(wheels.glob("*.whl")):
    name, version = wheel.name.split("-")[:2]
    lock.append(f"{norm(name)}=={version}")
    if norm(name) not in pinned:
        loose.append(wheel.name)
if loose:
    sys.exit(f"wheels pinned nowhere (add them to odoo-constraints.txt): {', '.join(loose)}")

# soname -> path, as the dynamic loader resolves it on this (Debian 12) host.
resolved = {}
for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout.splitlines():
    found = re.match(r"\s*(\S+) \((libc6,x86-64[^)]*)\) => (\S+)", line)
    if found:
        resolved.setdefault(found[1], found[3])


def package_of(path):
    for candidate in (path, path.removeprefix("/usr") if path.startswith("/usr/") else "/usr" + path):
        out = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":")[0].strip()
    return None


packages, problems, report = set(), [], []
scratch = wheels.parent / "so"
for wheel in sorted(wheels.glob("*.whl")):
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if re.search(r"\.so(\.[0-9.]+)?$", m)]
        bundled = {Path(m).name for m in members}
        for member in members:
            target = Path(archive.extract(member, scratch))
            dynamic = subprocess.run(["readelf", "-d", str(target)], capture_output=True, text=True).stdout
            for soname in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic):
                if soname in bundled:
                    continue
                path = resolved.get(soname)
                package = package_of(path) if path else None
                if package is None:
                    problems.append(f"{wheel.name}: {member} needs {soname}, found in no Debian package")
                    continue
                packages.add(package)
                if "linux_x86_64" in wheel.name:  # built here from an sdist
                    report.append(f"  {wheel.name.split('-')[0]}: {soname} ({package})")
if problems:
    sys.exit("\n".join(problems))
(wheels / "requirements.lock").write_text("\n".join(lock) + "\n")
(wheels / "debian-packages.txt").write_text("\n".join(sorted(packages)) + "\n")
print("libraries of the wheels built from sdists (Debian 12 packages):")
print("\n".join(sorted(set(report))))
print(f"Debian packages the wheels need on the server: {' '.join(sorted(packages))}")
EOF
rm -rf "$tmp/so"
(cd "$wheels" && sha256sum -- *.whl requirements.lock debian-packages.txt >SHA256SUMS)
rm -rf "$out"
mv "$wheels" "$out"
echo "$digest" >"$stamp"
echo "odoo wheelhouse: $out ($(find "$out" -name '*.whl' | wc -l) wheels, $((SECONDS - started)) s)"
