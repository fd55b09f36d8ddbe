# Sourced by scripts/screenshot-*.sh: the engine up, the X tools installed
# when missing (Xvfb, xdotool, xwd, ImageMagick), the release binary built
# unless SKIP_BUILD is set. Sets $bin (BIN overrides it).
bash scripts/engine-up.sh >/dev/null 2>&1
need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xdotool >/dev/null || need+=(xdotool)
command -v xwd >/dev/null || need+=(x11-apps)
command -v convert >/dev/null || need+=(imagemagick)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q
bin=${BIN:-$PWD/target/release/shipshape}
# The test images (tests build them; a fresh machine runs `cargo test` first).
docker image inspect shipshape-test/base:1 >/dev/null
