#!/usr/bin/env bash
# Builds the CPU flavor of the coordinator and worker images (deploy/docker/Dockerfile), checks
# their user and contents, and runs them: a coordinator container and a worker container prove
# the bundled digits model, the proof is fetched with the coordinator image's own CLI and checked
# on the host, and both must leave cleanly on SIGTERM. The GPU flavor needs the nvidia/cuda base
# images, which no registry here serves.
#   tests/deploy/images.sh HOST_BIN_DIR WORK_DIR
# HOST_BIN_DIR holds the host build's zkinfer (it verifies the proof); WORK_DIR is scratch.
# Engine: docker where its daemon answers, else podman (with runc where the default runtime cannot
# start a container, as on machines whose hard rlimits are below crun's defaults; with explicit
# open-file and process limits where the runtime may not raise them). Base images:
# debian:12 and debian:12-slim as the engine has them or pulls them; where no registry answers,
# made with debootstrap from this machine's own Debian mirror (read from its apt sources).
# Exit 77 (ctest: skipped) only when no engine can start a container on this machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
host_bin=$(cd "$1" && pwd)
work=$2
# Names of the images; the containers' names add the PID.
tag=zkinfer-ci
mkdir -p "$work"
work=$(cd "$work" && pwd)

say() { printf '\n== %s\n' "$*"; }
fail() {
  printf 'images: %s\n' "$*" >&2
  exit 1
}

# ---- the engine ----------------------------------------------------------------------------------
engine=()
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  engine=(docker)
elif command -v podman >/dev/null; then
  engine=(podman)
else
  echo "images: skipped: neither a docker daemon nor podman on this machine (scripts/setup.sh installs podman)"
  exit 77
fi

# A container the engine can start: a busybox-free probe, a root filesystem of one static file.
probe_dir=$work/probe
rm -rf "$probe_dir"
mkdir -p "$probe_dir/root"
cc_out=$probe_dir/root/probe
printf 'int main(void){return 0;}\n' >"$probe_dir/probe.c"
cc -static -O1 -o "$cc_out" "$probe_dir/probe.c" || fail "cannot build the static probe program"
tar -C "$probe_dir/root" -c . | "${engine[@]}" import - "localhost/$tag-probe:1" >/dev/null
# No network: the probe needs none, nor a network stack the engine may lack.
# Where the runtime may not raise the container's open-file and process limits to the engine's
# defaults (no CAP_SYS_RESOURCE, as in some sandboxes: runc then fails with "error setting
# rlimit ... operation not permitted"), every run and build gets explicit limits below this
# shell's. Tried in turn: the default runtime, then (podman) runc; each without, then with them.
nofile=$(ulimit -Sn)
[[ $nofile == unlimited || $nofile -gt 65536 ]] && nofile=65536
limits=()
# Every run and build below goes through these, with the engine and limits the probe settles on.
engine_run() { "${engine[@]}" run "${limits[@]}" "$@"; }
engine_build() { "${engine[@]}" build "${limits[@]}" "$@"; }
probe() { engine_run --rm --network none "localhost/$tag-probe:1" /probe 2>&1; }
base_engine=("${engine[@]}")
runtimes=(default)
[[ ${engine[0]} == podman ]] && command -v runc >/dev/null && runtimes+=(runc)
started=0 first_error=""
for runtime in "${runtimes[@]}"; do
  for explicit_limits in 0 1; do
    engine=("${base_engine[@]}")
    [[ $runtime == runc ]] && engine+=(--runtime runc)
    limits=()
    ((explicit_limits)) && limits=(--ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096)
    if out=$(probe); then
      started=1
      break 2
    fi
    [[ -n $first_error ]] || first_error=$out
  done
done
"${engine[@]}" rmi "localhost/$tag-probe:1" >/dev/null 2>&1 || true
if ((!started)); then
  echo "images: skipped: ${base_engine[0]} cannot start a container on this machine:"
  printf '%s\n' "$first_error" | tail -n 3
  exit 77
fi
echo "images: engine ${engine[*]}${limits[*]:+, limits ${limits[*]}}"

containers=()
built=0
cleanup() {
  for c in "${containers[@]}"; do "${engine[@]}" rm -f "$c" >/dev/null 2>&1 || true; done
  ((built)) || return 0
  # Twice: an image goes only once no later one is built on it.
  for _ in 1 2; do
    comm -13 <(printf '%s\n' "$before_build") <(image_ids) | while read -r id; do
      "${engine[@]}" rmi -f "$id" >/dev/null 2>&1 || true
    done
  done
}
trap cleanup EXIT

# ---- base images ---------------------------------------------------------------------------------
has_image() { "${engine[@]}" image inspect "$1" >/dev/null 2>&1; }
if ! has_image debian:12 || ! has_image debian:12-slim; then
  if timeout 120 "${engine[@]}" pull -q debian:12 >/dev/null 2>&1 &&
    timeout 120 "${engine[@]}" pull -q debian:12-slim >/dev/null 2>&1; then
    echo "images: pulled debian:12 and debian:12-slim"
  else
    say "debian:12 from debootstrap (no registry answered)"
    command -v debootstrap >/dev/null || fail "debootstrap is missing (scripts/setup.sh installs it)"
    sources=/etc/apt/sources.list.d/debian.sources
    [[ -f $sources ]] || fail "no $sources to take the Debian mirror from"
    mirror=$(awk '/^URIs:/ {print $2; exit}' "$sources")
    [[ -n $mirror ]] || fail "no URIs line in $sources"
    rootfs=$work/rootfs
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
      fail "debootstrap failed; its log: $work/debootstrap.log"
    # apt in the image uses this machine's sources (and its settings for a snapshot mirror).
    rm -f "$rootfs/etc/apt/sources.list"
    cp "$sources" "$rootfs/etc/apt/sources.list.d/"
    printf 'Acquire::Check-Valid-Until "false";\n' >"$rootfs/etc/apt/apt.conf.d/99snapshot-mirror"
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" -c . | "${engine[@]}" import --change 'CMD ["/bin/bash"]' - debian:12 >/dev/null
    "${engine[@]}" tag debian:12 debian:12-slim
    rm -rf "$rootfs"
  fi
fi

# ---- build ---------------------------------------------------------------------------------------
# BuildKit reads Dockerfile.dockerignore beside the Dockerfile by itself; podman is told.
podman_args=()
[[ ${engine[0]} == podman ]] && podman_args=(--ignorefile "$root/deploy/docker/Dockerfile.dockerignore")
# What the builds leave (the images, and podman's intermediate ones: the build stage's is about
# 1 GB) goes at the end; the base images stay for a rerun. (`podman build --layers=false` keeps
# none, but with 4.3 it also deletes base images used by a stage that is only a FROM.)
image_ids() { "${engine[@]}" images -a -q --no-trunc | sort -u; }
before_build=$(image_ids)
built=1
for target in coordinator worker; do
  say "build the $target image (FLAVOR=cpu)"
  start=$SECONDS
  # Host networking: the build's apt-get reaches the mirror the way this machine does.
  engine_build --network host -f "$root/deploy/docker/Dockerfile" "${podman_args[@]}" \
    --target "$target" --build-arg FLAVOR=cpu \
    -t "localhost/$tag-$target:cpu" "$root" >"$work/build-$target.log" 2>&1 ||
    { tail -n 30 "$work/build-$target.log"; fail "the $target image did not build (log: $work/build-$target.log)"; }
  size=$("${engine[@]}" image inspect --format '{{.Size}}' "localhost/$tag-$target:cpu")
  echo "images: $target built in $((SECONDS - start)) s, $((size / 1048576)) MiB"
done
coord_image=localhost/$tag-coordinator:cpu
worker_image=localhost/$tag-worker:cpu

# ---- what the images hold ------------------------------------------------------------------------
say "image contents"
for image in "$coord_image" "$worker_image"; do
  user=$("${engine[@]}" image inspect --format '{{.Config.User}}' "$image")
  [[ $user == 10001:10001 ]] || fail "$image runs as '$user', not the zkinfer user 10001:10001"
  id=$(engine_run --rm --network none --entrypoint id "$image" -u)
  [[ $id == 10001 ]] || fail "$image: a container runs as uid $id"
  # Runtime images hold what runs: no compiler, no sources, no build tree.
  engine_run --rm --network none --entrypoint sh "$image" -c \
    'for p in /usr/bin/c++ /usr/bin/cmake /src /build; do [ ! -e "$p" ] || { echo "$p is in the image"; exit 1; }; done' ||
    fail "$image holds build-time files"
  # Every shared library of every program resolves.
  engine_run --rm --network none --entrypoint sh "$image" -c \
    'for b in /opt/zkinfer/bin/*; do if ldd "$b" | grep -q "not found"; then ldd "$b"; exit 1; fi; done' ||
    fail "$image: a program misses a shared library"
done
engine_run --rm --network none "$worker_image" --help >/dev/null || fail "zkinfer-worker --help fails in the worker image"

# ---- a proof through the containers --------------------------------------------------------------
say "a coordinator and a worker container prove the digits model"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
client_port=$(free_port)
worker_port=$(free_port)
coord_metrics=$(free_port)
worker_metrics=$(free_port)
files=$work/files
rm -rf "$files"
mkdir -p "$files/proof"
cp "$root/examples/digits/cnn.onnx" "$root/examples/digits/calibration_cnn.json" "$root/examples/digits/input_cnn.json" "$files/"
chmod -R a+rwX "$files"  # the containers' user writes the proof here

coord=$tag-coordinator-$$
containers+=("$coord")
engine_run -d --name "$coord" --network host "$coord_image" \
  --data /var/lib/zkinfer --clients "tcp://127.0.0.1:$client_port" --workers "tcp://127.0.0.1:$worker_port" \
  --metrics "127.0.0.1:$coord_metrics" >/dev/null
worker=$tag-worker-$$
containers+=("$worker")
engine_run -d --name "$worker" --network host "$worker_image" \
  --coordinator "tcp://127.0.0.1:$worker_port" --backend cpu --cache /var/cache/zkinfer \
  --metrics "127.0.0.1:$worker_metrics" >/dev/null

http_ok() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; }
deadline=$((SECONDS + 60))
until http_ok "http://127.0.0.1:$coord_metrics/readyz" && http_ok "http://127.0.0.1:$worker_metrics/readyz"; do
  if ((SECONDS > deadline)); then
    "${engine[@]}" logs "$coord" 2>&1 | tail -n 20
    "${engine[@]}" logs "$worker" 2>&1 | tail -n 20
    fail "the containers were not ready within 60 s"
  fi
  sleep 1
done
echo "images: coordinator and worker ready"

cli() {
  engine_run --rm --network host -v "$files:/files" -e "ZKINFER_COORDINATOR=tcp://127.0.0.1:$client_port" \
    --entrypoint /opt/zkinfer/bin/zkinfer "$coord_image" "$@"
}
model=$(cli model add /files/cnn.onnx --calibration /files/calibration_cnn.json --dev | tail -n 1)
[[ -n $model ]] || fail "model add printed no model id"
job=$(cli submit "$model" --input /files/input_cnn.json | tail -n 1)
[[ -n $job ]] || fail "submit printed no job id"
cli wait "$job" --timeout 600 || fail "job $job did not succeed"
cli result "$job" -o /files/proof
"$host_bin/zkinfer" verify "$files/proof/verification_key.json" "$files/proof/public.json" "$files/proof/proof.json" ||
  fail "the proof from the containers does not verify"
python3 -c 'import json, sys; l = json.load(open(sys.argv[1]))["logits"]; sys.exit(0 if len(l[0]) == 10 else 1)' \
  "$files/proof/output.json" || fail "output.json does not hold the model's 10 logits"

metrics=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
  "http://127.0.0.1:$coord_metrics/metrics")
grep -q '^zkinfer_' <<<"$metrics" || fail "the coordinator's /metrics has no zkinfer_ series"

# ---- shutdown: SIGTERM, and both leave cleanly ---------------------------------------------------
say "stop the containers"
for c in "$worker" "$coord"; do
  "${engine[@]}" stop -t 60 "$c" >/dev/null
  code=$("${engine[@]}" inspect --format '{{.State.ExitCode}}' "$c")
  [[ $code == 0 ]] || { "${engine[@]}" logs "$c" 2>&1 | tail -n 20; fail "$c exited with $code after SIGTERM"; }
done
echo "images: the CPU images built, ran a verified proof and stopped cleanly"
