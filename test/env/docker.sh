#!/usr/bin/env bash
# Test bed step "docker": a running Docker engine and the local base images the Dockerfiles start FROM.
#
# No image can be pulled on these machines, so the images are made here:
#   debian:bookworm-slim    = a debootstrap'ed minbase bookworm rootfs from this machine's Debian mirror, imported
#   node:24-bookworm-slim   = that image + the Node 24 binary from node_modules/node + npm (an npm registry package)
# Each image carries the label qemu-bmc.bed-key; it is rebuilt only when its recipe changes, and an image of the
# same name without that label (a real upstream one) is left alone. The warm path only asks the engine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${QEMU_BMC_CACHE:-$HOME/.cache/qemu-bmc}"
mkdir -p "$cache"

suite=bookworm
variant=minbase
npm_version=11.21.2 # npm of the Node 24 line; node:24 images ship one
recipe_rev=1        # bump when the rootfs or image recipe below changes
label=qemu-bmc.bed-key
debian_image=debian:bookworm-slim
node_image=node:24-bookworm-slim
node_bin="$repo/node_modules/node/bin/node"

die() {
  echo "docker step: $*" >&2
  exit 1
}
log() { echo "docker step: $*"; }
sha12() { sha256sum | cut -c1-12; }

# The engine: Debian's dockerd started directly works here with its defaults (overlay2 on ext4, cgroup v1,
# iptables via nf_tables for the bridge's NAT, so RUN apt-get inside `docker build` reaches the mirror).
start_engine() {
  docker info >/dev/null 2>&1 && return 0
  command -v dockerd >/dev/null || die "dockerd not found; install Debian's docker.io (npm run bed -- apt)"
  [ "$(id -u)" = 0 ] || die "no Docker engine answers and starting dockerd needs root"
  log "starting dockerd (log: $cache/dockerd.log)"
  setsid dockerd >>"$cache/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 $! 2>/dev/null || break
    sleep 1
  done
  tail -n 20 "$cache/dockerd.log" >&2 || true
  die "dockerd did not answer within 60 s; see $cache/dockerd.log"
}

# The first URI in this machine's apt sources that serves the given suite (deb822 .sources or one-line .list).
apt_mirror_for() {
  local want="$1" f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$want" '
      /^[[:space:]]*$/ { if (uri != "" && hit) { print uri; exit } uri = ""; hit = 0; next }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == want) hit = 1 }
      END { if (uri != "" && hit) print uri }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v want="$want" '$1 == "deb" { u = $2; s = $3; if ($2 ~ /^\[/) { u = $3; s = $4 } if (s == want) print u }' "$f"
  done
}

image_key() { docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$1" 2>/dev/null || true; }

# Returns 0 when the image must be (re)built: it is missing, or it is ours with another key.
needs_build() {
  local image="$1" key="$2" have
  docker image inspect "$image" >/dev/null 2>&1 || return 0
  have="$(image_key "$image")"
  if [ -z "$have" ] || [ "$have" = "<no value>" ]; then
    log "$image exists and is not ours; leaving it alone"
    return 1
  fi
  [ "$have" != "$key" ]
}

# debootstrap once per suite/variant/mirror/recipe; the tarball is the cache, never dated.
build_rootfs_tarball() {
  local tarball="$1" mirror="$2" security="$3" work
  command -v debootstrap >/dev/null || die "debootstrap not found (npm run bed -- apt)"
  work="$(mktemp -d "$cache/rootfs-work.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: the path is fixed
  trap "rm -rf '$work'" EXIT
  log "debootstrap --variant=$variant $suite from $mirror"
  debootstrap --variant="$variant" "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    {
      tail -n 20 "$work/debootstrap.log" >&2
      die "debootstrap failed"
    }
  slim_rootfs "$work/rootfs" "$mirror" "$security"
  tar --numeric-owner --sort=name -C "$work/rootfs" -cf "$work/rootfs.tar" .
  mv "$work/rootfs.tar" "$tarball"
  rm -rf "$work"
  trap - EXIT
}

# Make the rootfs look like the official slim image: sources for the suite, its updates and security,
# no package caches or lists, no docs, man pages or translations (and dpkg keeps them out later).
slim_rootfs() {
  local root="$1" mirror="$2" security="$3"
  rm -f "$root/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" "$suite" "$suite"
    if [ -n "$security" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$security" "$suite"
    fi
  } >"$root/etc/apt/sources.list.d/debian.sources"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/var/cache/apt/"*.bin
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* "$root/var/log/"*.log "$root/tmp/"*
  : >"$root/etc/machine-id"
  rm -f "$root/etc/hostname"
}

# This machine's extra trust anchors (e.g. a TLS-inspecting egress proxy's CA). Builds that fetch over HTTPS
# (npm ci, pip) need them here; on a machine without any, nothing is added.
extra_cas() { find /usr/local/share/ca-certificates -maxdepth 2 -name '*.crt' -type f 2>/dev/null | LC_ALL=C sort; }

build_debian_image() {
  local mirror security ca_hash rootfs_key key tarball ctx
  mirror="$(apt_mirror_for "$suite" | head -n 1)"
  [ -n "$mirror" ] || die "no apt source for suite '$suite' in /etc/apt/sources.list*"
  security="$(apt_mirror_for "$suite-security" | head -n 1)"
  rootfs_key="$(printf '%s\n' "$suite" "$variant" "$mirror" "$security" "$recipe_rev" | sha12)"
  ca_hash="$(extra_cas | xargs -r cat | sha12)"
  key="$rootfs_key-$ca_hash"
  needs_build "$debian_image" "$key" || return 0

  tarball="$cache/rootfs-$suite-$variant-$rootfs_key.tar"
  [ -f "$tarball" ] || build_rootfs_tarball "$tarball" "$mirror" "$security"
  log "importing $tarball as $debian_image"
  docker import --change 'CMD ["bash"]' --change "LABEL $label=$key" "$tarball" "$debian_image" >/dev/null

  if [ -n "$(extra_cas)" ]; then
    ctx="$(mktemp -d "$cache/ca-ctx.XXXXXX")"
    mkdir -p "$ctx/ca"
    extra_cas | xargs -r cp -t "$ctx/ca"
    extra_cas | xargs -r cat >"$ctx/extra-ca.pem"
    # update-ca-certificates picks ca/*.crt up once a Dockerfile installs ca-certificates;
    # extra-ca.pem is one file for NODE_EXTRA_CA_CERTS.
    cat >"$ctx/Dockerfile" <<EOF
FROM $debian_image
COPY ca/ /usr/local/share/ca-certificates/
COPY extra-ca.pem /usr/local/share/qemu-bmc-bed/extra-ca.pem
LABEL $label=$key
EOF
    docker build -q -t "$debian_image" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
}

build_node_image() {
  local node_version base_key key ctx
  [ -x "$node_bin" ] || die "$node_bin missing; run npm ci first"
  node_version="$("$node_bin" --version)"
  base_key="$(image_key "$debian_image")"
  key="$(printf '%s\n' "$node_version" "$npm_version" "$base_key" "$recipe_rev" | sha12)"
  needs_build "$node_image" "$key" || return 0

  ctx="$(mktemp -d "$cache/node-ctx.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$ctx'" EXIT
  cp "$node_bin" "$ctx/node"
  (cd "$ctx" && npm pack --silent "npm@$npm_version" >/dev/null) || die "npm pack npm@$npm_version failed"
  local extra_ca_env=""
  if docker run --rm "$debian_image" test -f /usr/local/share/qemu-bmc-bed/extra-ca.pem; then
    extra_ca_env="ENV NODE_EXTRA_CA_CERTS=/usr/local/share/qemu-bmc-bed/extra-ca.pem"
  fi
  # Like the official image: node and npm/npx in /usr/local, a 'node' user with uid 1000, CMD node.
  cat >"$ctx/Dockerfile" <<EOF
FROM $debian_image
ENV NODE_VERSION=${node_version#v}
COPY node /usr/local/bin/node
COPY npm-$npm_version.tgz /tmp/npm.tgz
RUN mkdir -p /usr/local/lib/node_modules \\
 && tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules \\
 && mv /usr/local/lib/node_modules/package /usr/local/lib/node_modules/npm \\
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && rm /tmp/npm.tgz \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
$extra_ca_env
LABEL $label=$key
CMD ["node"]
EOF
  log "building $node_image (node $node_version, npm $npm_version)"
  docker build -q -t "$node_image" "$ctx" >/dev/null
  rm -rf "$ctx"
  trap - EXIT
}

main() {
  command -v docker >/dev/null || die "docker CLI not found (npm run bed -- apt)"
  start_engine
  # One builder at a time: other engineers or a second terminal may run the bed concurrently.
  exec 9>"$cache/docker-step.lock"
  flock -w 900 9 || die "another docker step holds $cache/docker-step.lock"
  build_debian_image
  build_node_image
  log "engine $(docker version --format '{{.Server.Version}}'); images: $(docker images --format '{{.Repository}}:{{.Tag}}' "$debian_image") $(docker images --format '{{.Repository}}:{{.Tag}}' "$node_image")"
}

main "$@"
