#!/usr/bin/env bash
# Proves that the README test command passes on a machine built from Debian
# packages alone: makes a minimal Debian bookworm root with mmdebstrap (the
# host's apt sources, nothing else installed), clones the committed HEAD of
# this repository into it as CI does, binds ../shared read-only beside it, and
# runs `bash .ci/run` inside with CI=true. Everything the suite needs must then
# come from scripts/install-deps.sh: a package, Python module or shared library
# that only a by-hand install provided makes this run fail.
#
# Usage (root): scripts/chroot-test.sh [ROOT_DIR]     (default /var/tmp/triage-chroot)
#   KEEP=1       keep ROOT_DIR afterwards (default: removed on success)
#   CI_COMMAND   what to run in the clone (default: bash .ci/run)
# Exit status is the command's. Timing and the log go to ROOT_DIR.log.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${TRIAGE_SHARED_DIR:-$repo/../shared}
root=${1:-/var/tmp/triage-chroot}
command=${CI_COMMAND:-bash .ci/run}
log="$root.log"

[ "$(id -u)" -eq 0 ] || { echo "chroot-test: needs root (mmdebstrap, mount, chroot)" >&2; exit 1; }
[ -d "$shared" ] || { echo "chroot-test: $shared: no shared reference folder" >&2; exit 1; }
if ! command -v mmdebstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
[ -f "$sources" ] || { echo "chroot-test: no apt sources on the host to copy" >&2; exit 1; }

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
bind() {  # <host path> <path in root> [ro]
  mkdir -p "$root$2"
  mount --bind "$1" "$root$2"
  mounted+=("$root$2")
  if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$root$2"; fi
}

start=$(date +%s)
if [ -e "$root" ]; then
  echo "chroot-test: $root exists; remove it first for a fresh root" >&2
  exit 1
fi
echo "chroot-test: [1/3] minimal bookworm root in $root (mmdebstrap, host apt sources)" | tee "$log"
# minbase: essential packages and apt only; no compiler, no Python, no git.
mmdebstrap --variant=minbase --quiet bookworm "$root" - < "$sources"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The host's apt settings (e.g. snapshot mirrors without Valid-Until).
cp /etc/apt/apt.conf.d/* "$root/etc/apt/apt.conf.d/" 2>/dev/null || true
t_root=$(($(date +%s) - start))

echo "chroot-test: [2/3] fresh clone of $(git -C "$repo" rev-parse --short HEAD) into /work/main" | tee -a "$log"
mkdir -p "$root/work"
git clone --quiet --no-hardlinks "$repo" "$root/work/main"
bind "$shared" /work/shared ro
mkdir -p "$root/proc" "$root/sys" "$root/dev"
mount -t proc proc "$root/proc"; mounted+=("$root/proc")
mount -t sysfs sys "$root/sys"; mounted+=("$root/sys")
bind /dev /dev
mount -t devpts devpts "$root/dev/pts" 2>/dev/null && mounted+=("$root/dev/pts") || true
mount -t tmpfs tmpfs "$root/dev/shm" && mounted+=("$root/dev/shm")

# The host network's extra trust anchors for Node.js (e.g. a TLS-inspecting
# proxy's CA), as apt's settings above: npm fetches the report's plot runtime.
node_ca=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  mkdir -p "$root/etc/ssl"
  cp "$NODE_EXTRA_CA_CERTS" "$root/etc/ssl/host-node-extra-ca.pem"
  node_ca=(NODE_EXTRA_CA_CERTS=/etc/ssl/host-node-extra-ca.pem)
fi

echo "chroot-test: [3/3] CI=true $command (in the chroot, no standard input)" | tee -a "$log"
t0=$(date +%s)
set +e
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 CI=true "${node_ca[@]}" bash -c "cd /work/main && $command" < /dev/null 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
set -e
t_ci=$(($(date +%s) - t0))
printf 'chroot-test: root %d s, "%s" %d s (%d min %d s) on %s, exit %d\n' "$t_root" "$command" "$t_ci" \
  $((t_ci / 60)) $((t_ci % 60)) "$(nproc) cores" "$rc" | tee -a "$log"
cleanup
mounted=()
if [ "$rc" -eq 0 ] && [ -z "${KEEP:-}" ]; then
  # Never remove a tree that still has something mounted inside (/dev, shared/).
  if grep -q " $root/" /proc/mounts; then
    echo "chroot-test: mounts remain under $root; not removing it" >&2
  else
    rm -rf "$root"
  fi
fi
exit "$rc"
