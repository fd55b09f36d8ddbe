#!/usr/bin/env bash
# Render assets/icons/shipshape.svg to the PNG sizes a desktop asks for, and
# the 64 px RGBA the window icon embeds. Needs ImageMagick (apt-get install
# imagemagick); the results are committed, so building never needs it.
set -euo pipefail
cd "$(dirname "$0")/../assets/icons"
convert=/usr/bin/convert
for s in 16 32 48 64 128 256; do
  "$convert" -background none -density 300 shipshape.svg -resize "${s}x${s}" "shipshape-$s.png"
done
"$convert" shipshape-64.png -depth 8 rgba:shipshape-64.rgba
