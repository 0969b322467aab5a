#!/usr/bin/env bash
# make-busybox-image.sh OUT.tar [NAME:TAG]
# Builds a small busybox image from Debian's busybox-static (/bin/busybox, or $BUSYBOX) and writes
# it as a docker-archive tar (manifest.json, <config-sha256>.json, <layer-sha256>/layer.tar) that
# `kvol image import` (and `docker load` / `podman load`) accept. Needs only bash, coreutils and
# GNU tar: no podman, no docker. The rootfs: bin/busybox plus one symlink per applet (`busybox
# --install -s`), etc/passwd and etc/group with root and nobody, tmp (1777) and root (0700).
# Config: Env PATH=/usr/sbin:/usr/bin:/sbin:/bin, Cmd ["sh"]. Default NAME:TAG busybox:latest.
# Output is reproducible for a given busybox binary (sorted members, mtime 0, owner 0).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 OUT.tar [NAME:TAG]" >&2
  exit 2
fi
out=$1
tag=${2:-busybox:latest}
# A tag is what follows the last ':' after the last '/'; add :latest when there is none.
last=${tag##*/}
[[ $last == *:* ]] || tag="$tag:latest"
busybox=${BUSYBOX:-/bin/busybox}
if [[ ! -x $busybox ]]; then
  echo "$0: $busybox not found (apt-get install busybox-static)" >&2
  exit 1
fi

umask 022
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,etc,tmp,root} "$work/archive"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
# One symlink per applet. busybox points them at the path it resolves for itself (/usr/bin/busybox
# on a merged-/usr host); the layer's tar rewrites every absolute link target to /bin/busybox.
"$busybox" --install -s "$root/bin"
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
  >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"

tarflags=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu)
tar "${tarflags[@]}" --transform='s|^/.*$|/bin/busybox|RsH' -C "$root" -cf "$work/layer.tar" .
layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/archive/$layer"
mv "$work/layer.tar" "$work/archive/$layer/layer.tar"

case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
printf '%s' '{"architecture":"'"$arch"'","os":"linux","created":"1970-01-01T00:00:00Z",'\
'"config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},'\
'"rootfs":{"type":"layers","diff_ids":["sha256:'"$layer"'"]},'\
'"history":[{"created":"1970-01-01T00:00:00Z","created_by":"scripts/make-busybox-image.sh"}]}' \
  >"$work/config.json"
config=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/archive/$config.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' \
  "$config" "$tag" "$layer" >"$work/archive/manifest.json"
repo=${tag%:*}
printf '{"%s":{"%s":"%s"}}\n' "$repo" "${tag##*:}" "$layer" >"$work/archive/repositories"

tar "${tarflags[@]}" -C "$work/archive" -cf "$out.tmp" .
mv "$out.tmp" "$out"
