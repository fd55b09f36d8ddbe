#!/usr/bin/env bash
# Build a .deb of shipshape: the binary (stripped of debug info, which goes
# beside the package as shipshape.debug for crash reports), the desktop
# entry, the icons and the AppStream metadata.
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
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$out" "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/applications" \
  "$root/usr/share/metainfo" "$root/usr/share/doc/shipshape"
# Debug info apart: the package carries symbols (function names in a
# backtrace), the .debug file the line numbers (see docs/install.md).
objcopy --only-keep-debug "$SHIPSHAPE_BIN" "$out/shipshape-$version.debug"
objcopy --strip-debug --add-gnu-debuglink="$out/shipshape-$version.debug" \
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
deb="$out/shipshape_${version}_${arch}.deb"
# DEB_COMPRESSION: xz (default) for a release, gzip for a quick test build.
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$root" "$deb" >/dev/null
echo "$deb"
