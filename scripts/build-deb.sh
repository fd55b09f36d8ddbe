#!/usr/bin/env bash
# Build the .debs of shipshape:
#   shipshape_<v>_<arch>.deb         the binary (stripped: symbols and debug
#                                    info go to the -dbgsym package), the
#                                    desktop entry, the icons, the AppStream
#                                    metadata;
#   shipshape-dbgsym_<v>_<arch>.deb  the debug info, where debuggers and
#                                    Rust's own backtraces look for it
#                                    (/usr/lib/debug/.build-id/): installed,
#                                    a crash report names every function and
#                                    line (docs/install.md).
# Prints the two paths, one per line.
#
#   scripts/build-deb.sh [OUT_DIR]          (default target/deb)
#
# SHIPSHAPE_BIN: package an already-built binary instead of building the
# release one (the test suite packages its own debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/deb}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
if [ -z "${SHIPSHAPE_BIN:-}" ]; then
  cargo build --release --quiet
  SHIPSHAPE_BIN=target/release/shipshape
fi
root=$(mktemp -d) dbg=$(mktemp -d)
trap 'rm -rf "$root" "$dbg"' EXIT
mkdir -p "$out" "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/applications" \
  "$root/usr/share/metainfo" "$root/usr/share/doc/shipshape"
# The debug info (and the symbol table) apart, found again by build id.
build_id=$(readelf -n "$SHIPSHAPE_BIN" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
if [ -z "$build_id" ]; then echo "build-deb: $SHIPSHAPE_BIN has no build id" >&2; exit 1; fi
debug_dir="$dbg/usr/lib/debug/.build-id/${build_id:0:2}"
mkdir -p "$debug_dir" "$dbg/DEBIAN"
objcopy --only-keep-debug --compress-debug-sections=zlib "$SHIPSHAPE_BIN" "$debug_dir/${build_id:2}.debug"
chmod 0644 "$debug_dir/${build_id:2}.debug"
objcopy --strip-all --add-gnu-debuglink="$debug_dir/${build_id:2}.debug" \
  "$SHIPSHAPE_BIN" "$root/usr/bin/shipshape"
chmod 0755 "$root/usr/bin/shipshape"
install -m 0644 assets/shipshape.desktop "$root/usr/share/applications/shipshape.desktop"
install -m 0644 assets/io.github.shipshape.shipshape.metainfo.xml "$root/usr/share/metainfo/"
for s in 16 32 48 64 128 256; do
  d="$root/usr/share/icons/hicolor/${s}x${s}/apps"; mkdir -p "$d"
  install -m 0644 "assets/icons/shipshape-$s.png" "$d/shipshape.png"
done
mkdir -p "$root/usr/share/icons/hicolor/scalable/apps"
install -m 0644 assets/icons/shipshape.svg "$root/usr/share/icons/hicolor/scalable/apps/shipshape.svg"
install -m 0644 README.md "$root/usr/share/doc/shipshape/README.md"
size=$(du -sk "$root/usr" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: shipshape
Version: $version
Architecture: $arch
Maintainer: shipshape developers <shipshape@users.noreply.github.com>
Installed-Size: $size
Depends: libc6, libgl1, libxkbcommon0
Recommends: docker.io | podman, xdg-desktop-portal
Section: admin
Priority: optional
Homepage: https://github.com/shipshape/shipshape
Description: security dashboard for the containers on your own machine
 shipshape reads every container, image and engine on this machine (Docker,
 Podman), checks them against a catalogue of risk rules and known
 vulnerabilities, records activity in a tamper-evident audit log and writes
 reports (JSON, SARIF, HTML, CSV, Markdown). It only reads.
CONTROL
cat > "$dbg/DEBIAN/control" <<CONTROL
Package: shipshape-dbgsym
Version: $version
Architecture: $arch
Maintainer: shipshape developers <shipshape@users.noreply.github.com>
Installed-Size: $(du -sk "$dbg/usr" | cut -f1)
Depends: shipshape (= $version)
Section: debug
Priority: optional
Homepage: https://github.com/shipshape/shipshape
Description: debug symbols for shipshape
 Function names and source lines for shipshape's backtraces and for
 debuggers (build id $build_id).
CONTROL
deb="$out/shipshape_${version}_${arch}.deb"
dbgsym="$out/shipshape-dbgsym_${version}_${arch}.deb"
# DEB_COMPRESSION: xz (default) for a release, gzip for a quick test build.
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$root" "$deb" >/dev/null
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$dbg" "$dbgsym" >/dev/null
echo "$deb"
echo "$dbgsym"
