#!/usr/bin/env bash
# registry.sh ROOTFS COMMAND [ARGS...]: start a real registry (Debian's
# docker-registry, the distribution registry 2.8) on 127.0.0.1 with token
# auth, as Docker Hub has it, push test images built from the busybox
# root filesystem ROOTFS, run COMMAND with the registry described in its
# environment, and stop everything on exit, whatever happened.
#
#   REGISTRY_HOST    127.0.0.1:PORT
#   REGISTRY_DATA    the registry's storage directory (tests corrupt it)
#   REGISTRY_TOKEN   a token the registry accepts (to PUT by hand)
#   REGISTRY_ARCH    the host's architecture, as registries name it
#
# Auth: the registry's "token" access controller checks a JWT signed by
# a key whose certificate it trusts; the realm is a busybox httpd that
# hands every client the same token (an RS256 JWT made here with
# openssl, granting pull and push on the test repositories). A client
# must follow the 401's WWW-Authenticate to it, as on Docker Hub.
#
# Images (umoci, offline):
#   test/a        one layer: ROOTFS plus /data/{keep,gone,opaque/old}
#   test/b        test/a's layer, then one that deletes /data/gone, adds
#                 /data/added and makes /data/opaque opaque (new inside);
#                 Env, Entrypoint, Cmd, WorkingDir and User set
#   test/multi    an OCI index: test/a for this host's architecture,
#                 test/b for another
#   test/corrupt  one small layer of its own, for a test to corrupt
#
# registry.sh --prepare DIR ROOTFS: build and push the images as above,
# then keep in DIR what serves them again (the registry's storage, the
# certificate it trusts, the token and the architecture) and stop.
# REGISTRY_FROM=DIR registry.sh ROOTFS COMMAND...: serve a copy of such a
# DIR instead of building the images; it needs no umoci, skopeo or
# openssl, and starts in a second. The test VM (tests/vm) runs suite 13
# this way: its images are made on the host, its registry runs inside.
set -euo pipefail

usage() {
	echo "usage: $0 ROOTFS COMMAND [ARGS...] | $0 --prepare DIR ROOTFS" >&2
	exit 2
}
prepare=
if [ "${1:-}" = --prepare ]; then
	[ $# -eq 3 ] || usage
	prepare=$2
	shift 2
else
	[ $# -ge 2 ] || usage
fi
rootfs=$1
shift
from=${REGISTRY_FROM:-}
[ -z "$from" ] || [ -z "$prepare" ] || usage
if [ -n "$from" ]; then
	for f in storage cert.pem token arch; do
		[ -e "$from/$f" ] || {
			echo "registry.sh: REGISTRY_FROM='$from' holds no $f (make it with $0 --prepare)" >&2
			exit 1
		}
	done
fi
[ -x "$rootfs/bin/busybox" ] || {
	echo "registry.sh: no busybox root filesystem at '$rootfs' (make it with ./rootfs-fetch.sh)" >&2
	exit 1
}
# REGISTRY_BIN: the registry's program. By default the installed one, or
# else the program alone, taken out of its package into build/tools/
# (tools/deb-bin.sh): the package would also install and start a system
# service listening on every address.
registry_bin=${REGISTRY_BIN:-}
if [ -z "$registry_bin" ]; then
	top=$(cd "$(dirname "$0")/../.." && pwd)
	registry_bin=docker-registry
	if ! command -v docker-registry >/dev/null; then
		registry_bin=$top/${BUILD:-build}/tools/docker-registry
		[ -x "$registry_bin" ] ||
			"$top"/tools/deb-bin.sh docker-registry /usr/bin/docker-registry "$registry_bin" >&2 ||
			exit 1
	fi
fi
tools=("$registry_bin" busybox curl ss)
[ -n "$from" ] || tools+=(umoci skopeo openssl)
for tool in "${tools[@]}"; do
	command -v "$tool" >/dev/null || {
		echo "registry.sh: '$tool' is missing: run sudo make deps-test" >&2
		exit 1
	}
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/minidocker-registry.XXXXXX")
pids=()
cleanup() {
	local status=$?
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "${tmp:?}"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Say what failed, with the last lines of the log that says why.
fail() {
	echo "registry.sh: $1" >&2
	[ -z "${2:-}" ] || tail -n 5 "$2" | sed 's/^/registry.sh:   /' >&2
	exit 1
}

# A TCP port nobody listens on (the kernel's choice is not reported by
# busybox httpd, so we pick and check).
free_port() {
	local port
	for _ in $(seq 50); do
		port=$((20000 + RANDOM % 40000))
		if ! ss -Hltn "sport = :$port" | grep -q .; then
			echo "$port"
			return
		fi
	done
	fail "no free port found"
}

# Wait (at most 10 s) until url answers with any HTTP status.
wait_http() {
	for _ in $(seq 100); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.1
	done
	return 1
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# --- the token: a self-signed certificate the registry trusts, and a JWT
# signed with its key; or the ones REGISTRY_FROM keeps.
if [ -n "$from" ]; then
	cp "$from/cert.pem" "$tmp/cert.pem"
	token=$(cat "$from/token")
else
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=minidocker-test \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/openssl.log" ||
	fail "openssl cannot make a key" "$tmp/openssl.log"
# The key id the registry computes for a trusted key (libtrust's): the
# first 240 bits of the sha256 of the public key's DER, in base32, in
# groups of four.
kid=$(openssl pkey -in "$tmp/key.pem" -pubout -outform DER 2>/dev/null |
	openssl dgst -sha256 -binary | head -c 30 | base32 | tr -d '=' |
	sed 's/.\{4\}/&:/g; s/:$//')
repos="test/a test/b test/multi test/corrupt"
access=
for r in $repos; do
	access="$access${access:+,}{\"type\":\"repository\",\"name\":\"$r\",\"actions\":[\"pull\",\"push\"]}"
done
now=$(date +%s)
header=$(printf '{"typ":"JWT","alg":"RS256","kid":"%s"}' "$kid" | b64url)
claims=$(printf '{"iss":"minidocker-test","sub":"","aud":"minidocker-registry","exp":%d,"nbf":%d,"iat":%d,"jti":"%s","access":[%s]}' \
	$((now + 86400)) $((now - 60)) $((now - 60)) "$RANDOM$RANDOM" "$access" | b64url)
signature=$(printf '%s.%s' "$header" "$claims" |
	openssl dgst -sha256 -sign "$tmp/key.pem" | b64url)
token="$header.$claims.$signature"
fi

# --- the token endpoint: busybox httpd serves one file, whatever the
# query string asks.
mkdir -p "$tmp/www"
printf '{"token":"%s","access_token":"%s","expires_in":86400}\n' "$token" "$token" >"$tmp/www/token"
token_port=$(free_port)
busybox httpd -f -p "127.0.0.1:$token_port" -h "$tmp/www" >"$tmp/httpd.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$token_port/token" ||
	fail "the token endpoint did not start" "$tmp/httpd.log"

# --- the registry.
port=$(free_port)
if [ -n "$from" ]; then
	cp -a "$from/storage" "$tmp/storage"
else
	mkdir -p "$tmp/storage"
fi
cat >"$tmp/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $tmp/storage
http:
  addr: 127.0.0.1:$port
  secret: minidocker-test
auth:
  token:
    realm: http://127.0.0.1:$token_port/token
    service: minidocker-registry
    issuer: minidocker-test
    rootcertbundle: $tmp/cert.pem
YAML
"$registry_bin" serve "$tmp/config.yml" >"$tmp/registry.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port/v2/" ||
	fail "docker-registry did not start" "$tmp/registry.log"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/")" = 401 ] ||
	fail "docker-registry answers /v2/ without a token: no token auth" "$tmp/registry.log"

# --- the images, unless REGISTRY_FROM has them pushed already.
build_and_push() {
	oci=$tmp/oci
	log=$tmp/build.log
	umoci init --layout "$oci" >>"$log" 2>&1 || fail "umoci init failed" "$log"
	umoci new --image "$oci:a" >>"$log" 2>&1 || fail "umoci new failed" "$log"
	umoci unpack --image "$oci:a" "$tmp/bundle" >>"$log" 2>&1 ||
		fail "umoci unpack failed" "$log"
	cp -a "$rootfs/." "$tmp/bundle/rootfs/"
	mkdir -p "$tmp/bundle/rootfs/data/keep" "$tmp/bundle/rootfs/data/opaque"
	echo keep >"$tmp/bundle/rootfs/data/keep/file"
	echo gone >"$tmp/bundle/rootfs/data/gone"
	echo old >"$tmp/bundle/rootfs/data/opaque/old"
	umoci repack --image "$oci:a" "$tmp/bundle" >>"$log" 2>&1 ||
		fail "umoci repack failed" "$log"
	umoci config --image "$oci:a" --config.env FROM=a \
		--config.cmd /bin/sh >>"$log" 2>&1 || fail "umoci config failed" "$log"

	# B's second layer, as a tar made by hand: umoci's own diff would list
	# each deleted file rather than mark the directory opaque.
	mkdir -p "$tmp/l2/data/opaque"
	: >"$tmp/l2/data/.wh.gone"
	: >"$tmp/l2/data/opaque/.wh..wh..opq"
	echo added >"$tmp/l2/data/added"
	echo new >"$tmp/l2/data/opaque/new"
	tar -C "$tmp/l2" --owner=0 --group=0 -cf "$tmp/l2.tar" data
	# A file of the image's own user 101 (nginx's), which a rootless run keeps
	# apart from root only with subordinate ids.
	mkdir -p "$tmp/l2u/data"
	echo owned >"$tmp/l2u/data/owned"
	tar -C "$tmp/l2u" --owner=101 --group=101 --numeric-owner -rf "$tmp/l2.tar" data/owned
	umoci tag --image "$oci:a" b >>"$log" 2>&1 || fail "umoci tag failed" "$log"
	umoci raw add-layer --image "$oci:b" "$tmp/l2.tar" >>"$log" 2>&1 ||
		fail "umoci raw add-layer failed" "$log"
	umoci config --image "$oci:b" --clear=config.env --config.env GREETING=hello \
		--config.env PATH=/bin --config.entrypoint /bin/echo --config.cmd hi \
		--config.workingdir /data --config.user 1000:1000 >>"$log" 2>&1 ||
		fail "umoci config failed" "$log"

	# A layer of its own for test/corrupt (unique content: a blob no other
	# image shares).
	mkdir -p "$tmp/lc"
	head -c 4096 /dev/urandom >"$tmp/lc/random"
	tar -C "$tmp/lc" --owner=0 --group=0 -cf "$tmp/lc.tar" random
	umoci new --image "$oci:corrupt" >>"$log" 2>&1 || fail "umoci new failed" "$log"
	umoci raw add-layer --image "$oci:corrupt" "$tmp/lc.tar" >>"$log" 2>&1 ||
		fail "umoci raw add-layer failed" "$log"

	push() {
		skopeo copy -q --dest-tls-verify=false --dest-registry-token "$token" \
			"oci:$oci:$1" "docker://127.0.0.1:$port/$2" >>"$log" 2>&1 ||
			fail "skopeo cannot push $1 to $2" "$log"
	}
	push a test/a:latest
	push b test/b:latest
	push corrupt test/corrupt:latest
	push a test/multi:a
	push b test/multi:b

	# The index: test/a for this machine, test/b for another architecture,
	# PUT as test/multi:latest.
	case $(uname -m) in
	x86_64) arch=amd64 ;;
	aarch64) arch=arm64 ;;
	armv7l | armv6l) arch=arm ;;
	i686) arch=386 ;;
	*) arch=$(uname -m) ;;
	esac
	other=s390x
	[ "$arch" != s390x ] || other=ppc64le
	# The manifest test/multi:TAG as the registry holds it (skopeo may have
	# rewritten umoci's), described for an index: "mediaType","digest","size".
	describe() {
		local head type digest size
		head=$(curl -sfI -H "Authorization: Bearer $token" \
			-H "Accept: application/vnd.oci.image.manifest.v1+json" \
			-H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
			"http://127.0.0.1:$port/v2/test/multi/manifests/$1" | tr -d '\r') ||
			fail "cannot read back test/multi:$1"
		type=$(printf '%s\n' "$head" | sed -n 's/^[Cc]ontent-[Tt]ype: //p')
		digest=$(printf '%s\n' "$head" | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
		size=$(printf '%s\n' "$head" | sed -n 's/^[Cc]ontent-[Ll]ength: //p')
		printf '"mediaType":"%s","digest":"%s","size":%d' "$type" "$digest" "$size"
	}
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{%s,"platform":{"architecture":"%s","os":"linux"}},{%s,"platform":{"architecture":"%s","os":"linux"}}]}' \
		"$(describe b)" "$other" "$(describe a)" "$arch" >"$tmp/index.json"
	code=$(curl -s -o "$tmp/put.log" -w '%{http_code}' -X PUT \
		-H "Authorization: Bearer $token" \
		-H "Content-Type: application/vnd.oci.image.index.v1+json" \
		--data-binary "@$tmp/index.json" \
		"http://127.0.0.1:$port/v2/test/multi/manifests/latest")
	[ "$code" = 201 ] || fail "cannot PUT the index: HTTP $code" "$tmp/put.log"
}
if [ -n "$from" ]; then
	arch=$(cat "$from/arch")
else
	build_and_push
fi

if [ -n "$prepare" ]; then
	# Whole or not at all: a directory beside it, renamed into place.
	rm -rf "${prepare:?}.tmp" && mkdir -p "$prepare.tmp" &&
		cp -a "$tmp/storage" "$tmp/cert.pem" "$prepare.tmp/" &&
		echo "$token" >"$prepare.tmp/token" &&
		echo "$arch" >"$prepare.tmp/arch" &&
		rm -rf "$prepare" && mv "$prepare.tmp" "$prepare" ||
		fail "cannot keep the registry in '$prepare'"
	exit 0
fi

# The rootless pass corrupts a blob too, as that user: let it in.
chmod 0711 "$tmp"
chmod -R a+rwX "$tmp/storage"

export REGISTRY_HOST="127.0.0.1:$port" REGISTRY_DATA="$tmp/storage" \
	REGISTRY_TOKEN="$token" REGISTRY_ARCH="$arch"
"$@"
