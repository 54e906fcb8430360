#!/bin/sh
# Vendors three.js for the playground's 3-D view (crates/downhill-cli/src/web/static/vendor/):
# the minified module build (three.module.min.js and the three.core.min.js it
# imports), OrbitControls and the fat lines (LineSegments2 and its parts) importing the
# vendored file instead of the bare specifier 'three' (the page has no import
# map), and the licence.
# 0.185.1 is the newest release that still ships build/*.min.js.
#
# usage: sh scripts/vendor_three.sh   (needs npm and the npm registry)
set -eu
version=0.185.1
dest="$(cd "$(dirname "$0")/.." && pwd)/crates/downhill-cli/src/web/static/vendor"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
(cd "$scratch" && npm pack --silent "three@$version" >/dev/null && tar xzf "three-$version.tgz")
mkdir -p "$dest"
cp "$scratch/package/build/three.module.min.js" "$scratch/package/build/three.core.min.js" "$dest/"
cp "$scratch/package/LICENSE" "$dest/LICENSE-three"
addons="controls/OrbitControls.js lines/LineSegments2.js lines/LineSegmentsGeometry.js lines/LineMaterial.js"
for addon in $addons; do
  sed "s#^} from 'three';#} from './three.module.min.js';#" \
    "$scratch/package/examples/jsm/$addon" > "$dest/$(basename "$addon")"
  ! grep -q "^} from 'three';" "$dest/$(basename "$addon")"
done
{
  echo "three.js $version (npm: three@$version, MIT, see LICENSE-three)"
  echo "tarball sha256 $(sha256sum "$scratch/three-$version.tgz" | cut -d' ' -f1)"
  echo "written by scripts/vendor_three.sh; the addons (examples/jsm/: $addons) import './three.module.min.js' instead of 'three'"
  (cd "$dest" && sha256sum three.module.min.js three.core.min.js $(for a in $addons; do basename "$a"; done))
} > "$dest/VERSION"
cat "$dest/VERSION"
