#!/usr/bin/env bash
# Builds the armhf sysroot the full flight build links against, from Debian
# packages only, without touching the host's dpkg: a private apt state (this
# machine's sources, architecture armhf) downloads the packages by name and
# `dpkg-deb -x` unpacks each into DEST/root. (libyaml-cpp-dev has no
# Multi-Arch field, so `dpkg --add-architecture armhf` would replace the
# host's amd64 copy; this route never installs anything.)
# Usage: scripts/armhf-sysroot.sh [DEST]   (default build/armhf-sysroot)
# Prints DEST/root, the folder to pass as -DTRIAGE_SYSROOT.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$(mkdir -p "${1:-$root/build/armhf-sysroot}" && cd "${1:-$root/build/armhf-sysroot}" && pwd)
# The flight's libraries and what they load at run time.
packages=(
  libjpeg62-turbo libjpeg62-turbo-dev libturbojpeg0 libturbojpeg0-dev
  libpng16-16 libpng-dev zlib1g zlib1g-dev
  libyaml-cpp0.7 libyaml-cpp-dev
  libspdlog1.1 libspdlog-dev libfmt9 libfmt-dev
  libssl3 libssl-dev
  nlohmann-json3-dev libcli11-dev
)
stamp="$dest/root/.packages"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${packages[*]}" ]; then
  echo "$dest/root"
  exit 0
fi
state=$dest/apt
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$dest/debs"
: > "$state/status"
apt_opts=(-o "Dir::State=$state" -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=$state/status"
          -o "Dir::Cache=$state/cache" -o "APT::Architecture=armhf" -o "APT::Architectures::=armhf"
          -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -qq)
echo "armhf-sysroot: apt update (armhf, private state in $state)" >&2
apt-get "${apt_opts[@]}" update >&2
(cd "$dest/debs" && apt-get "${apt_opts[@]}" download "${packages[@]/%/:armhf}" >&2)
rm -rf "$dest/root"
mkdir -p "$dest/root"
for deb in "$dest"/debs/*.deb; do
  dpkg-deb -x "$deb" "$dest/root"
done
# Absolute symlinks (zlib1g-dev's libz.so -> /lib/...) point into the sysroot instead.
find "$dest/root" -type l -lname '/*' | while read -r link; do
  ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$dest/root$(readlink "$link")")" "$link"
done
printf '%s' "${packages[*]}" > "$stamp"
echo "armhf-sysroot: $(ls "$dest"/debs/*.deb | wc -l) packages unpacked into $dest/root" >&2
echo "$dest/root"
