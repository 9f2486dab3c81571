#!/usr/bin/env bash
# scripts/emulator.sh — make sure a moto server (>= 5.2, local AWS emulator) listens on loopback.
#
# Three ways to get moto, tried in this order by SWITCHYARD_EMULATOR=auto (the default):
#   moto_server  an installed `moto_server` whose moto is >= 5.2 (pip, pipx, uv, pyenv …)
#   docker       a running docker engine: container motoserver/moto
#   debootstrap  root on Debian/Ubuntu: a Debian trixie chroot with python3-moto from sid, cached
#                under $SWITCHYARD_CACHE_DIR/moto-root (about a minute once, seconds afterwards)
#
# Run `scripts/emulator.sh -h` for the subcommands. Only coreutils, util-linux (flock, setsid)
# and bash are required; curl is used when present.
set -euo pipefail

readonly MIN_MOTO=5.2
readonly DEBIAN_SUITE=trixie
readonly DEBIAN_MIRROR=${SWITCHYARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
readonly DOCKER_IMAGE=${SWITCHYARD_MOTO_IMAGE:-motoserver/moto:5.2.4}
readonly START_TIMEOUT=${SWITCHYARD_EMULATOR_TIMEOUT:-60}
readonly ROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

CACHE_DIR=${SWITCHYARD_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/switchyard}
RUN_DIR=$CACHE_DIR/run
MOTO_ROOT=$CACHE_DIR/moto-root
MARKER_NAME=.switchyard-moto-version
# Bump when the chroot's package set changes, so cached roots built by an older recipe are rebuilt.
ROOT_RECIPE=2
ROOT_PACKAGES=(python3-moto python3-jsonpath-ng python3-pyparsing python3-flask python3-flask-cors)

REQUESTED=${SWITCHYARD_EMULATOR:-auto}
HOST=${SWITCHYARD_EMULATOR_HOST:-127.0.0.1}
PORT=${SWITCHYARD_EMULATOR_PORT:-4566}
LOG_FILE=

# Filled in by choose_method / detect_*.
METHOD=
MOTO_VERSION=
MS_PATH=
MS_NOTE=
BUILD_TMP=

usage() {
  cat <<EOF
Usage: ${0##*/} <command> [options]

Make sure a moto server (>= $MIN_MOTO) is available and listening on loopback.

Commands:
  install                 make sure moto >= $MIN_MOTO exists for the chosen method (does not start it)
  start [--host H] [--port P] [--log FILE]
                          attach to a moto already answering on H:P, or start one detached;
                          prints the endpoint (http://H:P) on stdout
  stop [--port P]         stop the server this script started on port P (no-op if none)
  status [--host H] [--port P]
                          say whether moto answers on H:P (exit 0 if it does, 3 if not)
  which                   print the method that would be used and its moto version
  -h, --help              show this text

Defaults: --host 127.0.0.1 --port 4566 --log \$CACHE/run/moto-<port>.log

Environment:
  SWITCHYARD_EMULATOR       auto|moto_server|docker|debootstrap   (default: auto)
  SWITCHYARD_EMULATOR_HOST  default host                          (127.0.0.1)
  SWITCHYARD_EMULATOR_PORT  default port                          (4566)
  SWITCHYARD_EMULATOR_TIMEOUT  seconds to wait for moto to answer (60)
  SWITCHYARD_CACHE_DIR      cache dir (\${XDG_CACHE_HOME:-\$HOME/.cache}/switchyard)
                            now: $CACHE_DIR
  SWITCHYARD_MOTO_IMAGE     image for the docker method           ($DOCKER_IMAGE)
  SWITCHYARD_DEBIAN_MIRROR  mirror for the debootstrap method     ($DEBIAN_MIRROR)
  MOTO_*                    passed through to the moto server

Pidfiles and logs live in \$CACHE/run/ (moto-<port>.pid, moto-<port>.log).
EOF
}

log() { printf '[emulator] %s\n' "$*" >&2; }

# die CODE LINE... — every line goes to stderr, the first prefixed with "error:".
die() {
  local code=$1
  shift
  printf '[emulator] error: %s\n' "$1" >&2
  shift
  local line
  for line in "$@"; do printf '[emulator]   %s\n' "$line" >&2; done
  exit "$code"
}

have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------------------------------------
# small helpers

# version_ge A B — true when version A >= version B, compared numerically per dot-separated part
# (5.10 > 5.2); pre-release/dev suffixes are ignored (5.2.0rc1 counts as 5.2.0).
version_ge() {
  local -a a b
  local i n x y
  IFS=. read -r -a a <<<"${1%%[!0-9.]*}"
  IFS=. read -r -a b <<<"${2%%[!0-9.]*}"
  n=$((${#a[@]} > ${#b[@]} ? ${#a[@]} : ${#b[@]}))
  for ((i = 0; i < n; i++)); do
    x=${a[i]:-0}
    y=${b[i]:-0}
    if ((10#$x > 10#$y)); then return 0; fi
    if ((10#$x < 10#$y)); then return 1; fi
  done
  return 0
}

url_host() {
  if [[ $1 == *:* ]]; then printf '[%s]' "$1"; else printf '%s' "$1"; fi
}

endpoint() { printf 'http://%s:%s' "$(url_host "$HOST")" "$PORT"; }

is_loopback() {
  case $1 in
  localhost | ::1 | 127.*) return 0 ;;
  *) return 1 ;;
  esac
}

# HTTP status of GET /moto-api/ on HOST:PORT, "000" when nothing answers.
moto_api_status() {
  local code
  if have curl; then
    code=$(curl --noproxy '*' -s -o /dev/null -m 3 -w '%{http_code}' "$(endpoint)/moto-api/" 2>/dev/null) || true
  else
    # shellcheck disable=SC2016 # expanded by the inner bash
    code=$(timeout 4 bash -c '
      exec 3<>"/dev/tcp/$1/$2" || exit 1
      printf "GET /moto-api/ HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" "$3" >&3
      IFS=" " read -r _ code _ <&3 && printf "%s" "$code"' _ "$HOST" "$PORT" "$(url_host "$HOST"):$PORT" 2>/dev/null) || true
  fi
  printf '%s' "${code:-000}"
}

is_up() { [[ $(moto_api_status) == 200 ]]; }

port_in_use() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$HOST" "$PORT" 2>/dev/null
}

# alive PID — the process exists and is not a zombie.
alive() {
  local stat rest state
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  rest=${stat##*) }
  state=${rest%% *}
  [[ $state != Z ]]
}

pgid_of() {
  local stat rest pgid
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  rest=${stat##*) }
  read -r _ _ pgid _ <<<"$rest"
  printf '%s' "$pgid"
}

is_moto_process() {
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *moto_server* ]]
}

# terminate PID — TERM the process group (or just the process), wait, then KILL what is left.
terminate() {
  local pid=$1 pgid target i
  pgid=$(pgid_of "$pid") || return 0
  if [[ $pgid == "$pid" ]]; then target=-$pid; else target=$pid; fi
  kill -TERM -- "$target" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    log "pid $pid ignored SIGTERM; sending SIGKILL"
    kill -KILL -- "$target" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
  fi
  # Sweep anything still in the server's own process group (e.g. helpers it forked).
  if [[ $target == -* ]]; then kill -KILL -- "$target" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

# remove_tree DIR — delete a (possibly half-built) chroot without ever crossing into mounts.
remove_tree() {
  local dir m
  [[ -e $1 ]] || return 0
  dir=$(readlink -f -- "$1")
  [[ -n $dir && $dir != / ]] || return 1
  while IFS= read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system -- "$dir"
}

# ---------------------------------------------------------------------------------------------
# method detection

# script_interpreter FILE — the interpreter named by FILE's shebang (handles `env`, `env -S` and
# pip's `#!/bin/sh` + `'''exec' python` trick for long paths).
script_interpreter() {
  local first='' second='' interp arg rest
  {
    IFS= read -r first || true
    IFS= read -r second || true
  } <"$1" 2>/dev/null || return 1
  [[ $first == '#!'* ]] || return 1
  read -r interp arg rest <<<"${first#'#!'}"
  case ${interp##*/} in
  env)
    if [[ $arg == -S* ]]; then
      arg=${arg#-S}
      [[ -n $arg ]] || read -r arg _ <<<"$rest"
    fi
    interp=$(command -v "$arg" 2>/dev/null) || return 1
    ;;
  sh | bash | dash)
    [[ $second == "'''exec' "* ]] || return 1
    read -r _ interp _ <<<"$second"
    interp=${interp//\"/}
    interp=${interp//\'/}
    ;;
  esac
  [[ -x $interp ]] || return 1
  printf '%s' "$interp"
}

moto_version_of() {
  # jsonpath_ng is a moto extra that EventBridge delivery needs; flask serves moto_server.
  timeout 60 "$1" -c 'import sys, moto, jsonpath_ng, flask, flask_cors; sys.stdout.write(moto.__version__)' 2>/dev/null
}

# detect_moto_server — sets MS_PATH and MOTO_VERSION when a moto_server >= MIN_MOTO is on PATH,
# otherwise sets MS_NOTE to the reason and fails.
detect_moto_server() {
  local cand real py ver proot
  MS_PATH=''
  MS_NOTE=''
  cand=$(command -v moto_server 2>/dev/null) || {
    MS_NOTE="no moto_server on PATH"
    return 1
  }
  real=$cand
  if have pyenv; then
    proot=$(pyenv root 2>/dev/null) || proot=
    if [[ -n $proot && $(readlink -f -- "$cand") == "$(readlink -f -- "$proot")/shims/"* ]]; then
      real=$(pyenv which moto_server 2>/dev/null) || {
        MS_NOTE="$cand is a pyenv shim, but moto_server is not installed for the active python"
        return 1
      }
    fi
  fi
  real=$(readlink -f -- "$real")
  py=$(script_interpreter "$real") || py=$(command -v python3 2>/dev/null) || {
    MS_NOTE="cannot tell which python runs $real"
    return 1
  }
  ver=$(moto_version_of "$py") || {
    MS_NOTE="$real: '$py' cannot import moto with its server extras (moto, jsonpath_ng, flask, flask_cors)"
    return 1
  }
  if ! version_ge "$ver" "$MIN_MOTO"; then
    MS_NOTE="$real has moto $ver (< $MIN_MOTO)"
    return 1
  fi
  MS_PATH=$real
  MOTO_VERSION=$ver
}

docker_ok() { have docker && timeout 20 docker info >/dev/null 2>&1; }

debootstrap_possible() {
  [[ $(id -u) == 0 ]] && have apt-get && have chroot && have flock && [[ -r /etc/debian_version ]]
}

root_ready() {
  local ver
  [[ -f $MOTO_ROOT/$MARKER_NAME && -x $MOTO_ROOT/usr/bin/moto_server ]] || return 1
  read -r ver recipe <"$MOTO_ROOT/$MARKER_NAME" || true
  [[ ${recipe:-1} == "$ROOT_RECIPE" ]] || return 1
  version_ge "$ver" "$MIN_MOTO" || return 1
  MOTO_VERSION=$ver
}

docker_image_version() {
  local tag=${DOCKER_IMAGE##*:}
  if [[ $DOCKER_IMAGE == *:* && $tag =~ ^[0-9]+(\.[0-9]+)*$ ]]; then printf '%s' "$tag"; else printf 'unknown'; fi
}

no_method() {
  die 2 "no way to run moto >= $MIN_MOTO was found on this machine. Any one of these works:" \
    "1. pip install 'moto[server]>=$MIN_MOTO'   (puts moto_server on PATH; pipx/uv tool work too)" \
    "   ${MS_NOTE:+(currently: $MS_NOTE)}" \
    "2. a running docker engine: the script then runs the image $DOCKER_IMAGE" \
    "   (docker run -p $HOST:$PORT:5000 motoserver/moto)" \
    "3. root on Debian/Ubuntu with apt-get: the script builds a Debian $DEBIAN_SUITE chroot with" \
    "   python3-moto from sid under $MOTO_ROOT (debootstrap route, ~1 min once)" \
    "Pick one explicitly with SWITCHYARD_EMULATOR=moto_server|docker|debootstrap (default: auto)."
}

choose_method() {
  case $REQUESTED in
  auto)
    if detect_moto_server; then
      METHOD=moto_server
    else
      [[ $MS_NOTE == "no moto_server on PATH" ]] || log "skipping moto_server: $MS_NOTE"
      if docker_ok; then
        METHOD=docker
        MOTO_VERSION=$(docker_image_version)
      elif debootstrap_possible; then
        METHOD=debootstrap
        root_ready || MOTO_VERSION=
      else
        no_method
      fi
    fi
    ;;
  moto_server)
    detect_moto_server || die 2 "SWITCHYARD_EMULATOR=moto_server, but no usable moto_server: $MS_NOTE" \
      "install it with: pip install 'moto[server]>=$MIN_MOTO'"
    METHOD=moto_server
    ;;
  docker)
    docker_ok || die 2 "SWITCHYARD_EMULATOR=docker, but 'docker info' fails (is the docker engine running?)"
    METHOD=docker
    MOTO_VERSION=$(docker_image_version)
    ;;
  debootstrap)
    debootstrap_possible || die 2 "SWITCHYARD_EMULATOR=debootstrap needs root on Debian/Ubuntu with apt-get, chroot and flock"
    METHOD=debootstrap
    root_ready || MOTO_VERSION=
    ;;
  *)
    die 64 "SWITCHYARD_EMULATOR must be auto, moto_server, docker or debootstrap (got '$REQUESTED')"
    ;;
  esac
}

describe_method() {
  case $METHOD in
  moto_server) printf 'moto_server %s %s\n' "$MOTO_VERSION" "$MS_PATH" ;;
  docker) printf 'docker %s %s\n' "$MOTO_VERSION" "$DOCKER_IMAGE" ;;
  debootstrap)
    if [[ -n $MOTO_VERSION ]]; then
      printf 'debootstrap %s %s\n' "$MOTO_VERSION" "$MOTO_ROOT"
    else
      printf 'debootstrap not-built-yet %s (python3-moto from Debian sid, built on first install/start)\n' "$MOTO_ROOT"
    fi
    ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# debootstrap route

# root_cmd ROOT — sets ROOT_CMD to the command prefix that runs something inside the chroot with
# a clean environment (only proxy settings are passed through).
ROOT_CMD=()
root_cmd() {
  local v
  ROOT_CMD=(env -i PATH="$ROOT_PATH" HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)
  for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    if [[ -n ${!v:-} ]]; then ROOT_CMD+=("$v=${!v}"); fi
  done
  ROOT_CMD+=(chroot "$1")
}

# run_step LOG CMD... — run a long build step in its own process group, output appended to LOG.
# It runs in the background and is waited for, so an INT/TERM sent to this script is handled at
# once (bash defers traps while a foreground child runs) and cleanup_build can stop the step.
STEP_PID=
run_step() {
  local logf=$1 rc=0
  shift
  setsid "$@" >>"$logf" 2>&1 </dev/null &
  STEP_PID=$!
  wait "$STEP_PID" || rc=$?
  STEP_PID=
  return "$rc"
}

cleanup_build() {
  local i
  if [[ -n $STEP_PID ]] && alive "$STEP_PID"; then
    kill -TERM -- "-$STEP_PID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 -- "-$STEP_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$STEP_PID" 2>/dev/null || true
    wait "$STEP_PID" 2>/dev/null || true
  fi
  if [[ -n $BUILD_TMP && -e $BUILD_TMP ]]; then
    log "removing incomplete build $BUILD_TMP"
    remove_tree "$BUILD_TMP" || true
  fi
}

build_failed() {
  local step=$1 buildlog=$2
  {
    printf '[emulator] --- last lines of %s ---\n' "$buildlog"
    tail -n 25 "$buildlog" | sed 's/^/[emulator] | /'
  } >&2
  die 1 "debootstrap route failed during: $step" "full log: $buildlog"
}

build_root() {
  local tmp=$CACHE_DIR/moto-root.tmp.$$ buildlog=$CACHE_DIR/moto-root.build.log ver d t0=$SECONDS
  local -a host_pkgs=() apt_host=(apt-get -o DPkg::Lock::Timeout=300)
  local -a apt_root=(apt-get -o Acquire::Check-Valid-Until=false)

  for d in "$CACHE_DIR"/moto-root.tmp.*; do
    [[ -e $d ]] || continue
    log "removing leftover of an interrupted build: $d"
    remove_tree "$d"
  done
  if [[ -e $MOTO_ROOT ]]; then
    log "removing unusable $MOTO_ROOT (no valid $MARKER_NAME marker)"
    remove_tree "$MOTO_ROOT"
  fi

  BUILD_TMP=$tmp
  : >"$buildlog"

  have debootstrap || host_pkgs+=(debootstrap)
  [[ -e /usr/share/keyrings/debian-archive-keyring.gpg ]] || host_pkgs+=(debian-archive-keyring)
  if ((${#host_pkgs[@]})); then
    log "installing ${host_pkgs[*]} on the host (0/3)…"
    run_step "$buildlog" "${apt_host[@]}" update ||
      build_failed "apt-get update (host)" "$buildlog"
    run_step "$buildlog" env DEBIAN_FRONTEND=noninteractive "${apt_host[@]}" install -y \
      --no-install-recommends "${host_pkgs[@]}" ||
      build_failed "apt-get install ${host_pkgs[*]} (host)" "$buildlog"
  fi

  log "debootstrap $DEBIAN_SUITE (1/3)… (about 30 s; log: $buildlog)"
  run_step "$buildlog" debootstrap --variant=minbase --include=ca-certificates \
    "$DEBIAN_SUITE" "$tmp" "$DEBIAN_MIRROR" || build_failed "debootstrap $DEBIAN_SUITE" "$buildlog"

  log "apt-get update with sid enabled (2/3)…"
  printf 'deb %s sid main\n' "$DEBIAN_MIRROR" >"$tmp/etc/apt/sources.list.d/sid.list"
  printf 'Package: *\nPin: release n=sid\nPin-Priority: 100\n' >"$tmp/etc/apt/preferences.d/sid"
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  root_cmd "$tmp"
  run_step "$buildlog" "${ROOT_CMD[@]}" "${apt_root[@]}" update ||
    build_failed "apt-get update (chroot)" "$buildlog"

  log "installing python3-moto from sid (3/3)…"
  run_step "$buildlog" "${ROOT_CMD[@]}" "${apt_root[@]}" install -y --no-install-recommends -t sid \
    "${ROOT_PACKAGES[@]}" ||
    build_failed "apt-get install python3-moto (chroot)" "$buildlog"
  if ! run_step "$buildlog" "${ROOT_CMD[@]}" apt-get clean; then
    log "apt-get clean failed in the chroot (harmless: the root keeps its package cache)"
  fi

  ver=$("${ROOT_CMD[@]}" /usr/bin/python3 -c 'import sys, moto, jsonpath_ng, flask, flask_cors; sys.stdout.write(moto.__version__)' \
    2>>"$buildlog") || build_failed "import moto (chroot)" "$buildlog"
  version_ge "$ver" "$MIN_MOTO" || die 1 "Debian sid ships moto $ver, which is older than $MIN_MOTO"
  [[ -x $tmp/usr/bin/moto_server ]] || die 1 "python3-moto $ver has no /usr/bin/moto_server"

  printf '%s %s\n' "$ver" "$ROOT_RECIPE" >"$tmp/$MARKER_NAME"
  mv -T -- "$tmp" "$MOTO_ROOT"
  BUILD_TMP=
  MOTO_VERSION=$ver
  log "built moto $ver chroot in $((SECONDS - t0)) s: $MOTO_ROOT"
}

install_debootstrap() {
  local lockfd
  root_ready && return 0
  mkdir -p "$CACHE_DIR"
  exec {lockfd}>"$CACHE_DIR/moto-root.lock"
  if ! flock -n "$lockfd"; then
    log "another invocation is building $MOTO_ROOT; waiting for it…"
    flock "$lockfd"
  fi
  if ! root_ready; then
    build_root
  fi
  exec {lockfd}>&-
}

# ---------------------------------------------------------------------------------------------
# commands

do_install() {
  case $METHOD in
  moto_server) ;;
  docker)
    if ! docker image inspect "$DOCKER_IMAGE" >/dev/null 2>&1; then
      log "docker pull $DOCKER_IMAGE…"
      docker pull "$DOCKER_IMAGE" >&2 || die 1 "docker pull $DOCKER_IMAGE failed"
    fi
    ;;
  debootstrap) install_debootstrap ;;
  esac
}

cmd_install() {
  choose_method
  do_install
  describe_method
}

cmd_which() {
  choose_method
  describe_method
}

pidfile() { printf '%s/moto-%s.pid' "$RUN_DIR" "$PORT"; }
cidfile() { printf '%s/moto-%s.container' "$RUN_DIR" "$PORT"; }
metafile() { printf '%s/moto-%s.meta' "$RUN_DIR" "$PORT"; }

# meta_get KEY — a value recorded by `start` for this port.
meta_get() {
  local line
  [[ -f $(metafile) ]] || return 1
  while IFS= read -r line; do
    if [[ $line == "$1="* ]]; then
      printf '%s' "${line#*=}"
      return 0
    fi
  done <"$(metafile)"
  return 1
}

# Stop what this script started on PORT. Prints nothing; returns 0 if something was stopped.
stop_ours() {
  local pid name stopped=1
  if [[ -f $(cidfile) ]]; then
    name=$(<"$(cidfile)")
    if have docker && docker stop -t 5 "$name" >/dev/null 2>&1; then stopped=0; fi
    rm -f -- "$(cidfile)"
  fi
  if [[ -f $(pidfile) ]]; then
    pid=$(<"$(pidfile)")
    if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && is_moto_process "$pid"; then
      terminate "$pid"
      stopped=0
    fi
    rm -f -- "$(pidfile)"
  fi
  rm -f -- "$(metafile)"
  return "$stopped"
}

# with_port_lock CMD... — run CMD holding $RUN_DIR/moto-<port>.lock, so concurrent start/stop
# calls for one port are serialised (the second `start` then simply attaches).
# (CMD is deliberately not run inside `||`/`if`, which would switch off `set -e` within it.)
PORT_LOCK_FD=
with_port_lock() {
  mkdir -p "$RUN_DIR"
  exec {PORT_LOCK_FD}>"$RUN_DIR/moto-$PORT.lock"
  if ! flock -w $((START_TIMEOUT + 600)) "$PORT_LOCK_FD"; then
    die 1 "timed out waiting for $RUN_DIR/moto-$PORT.lock"
  fi
  "$@"
  exec {PORT_LOCK_FD}>&-
}

cmd_stop() {
  have flock || die 1 "flock (util-linux) is required"
  with_port_lock stop_locked
}

stop_locked() {
  local h
  h=$(meta_get host) || h=
  [[ -z $h ]] || HOST=$h
  if stop_ours; then
    log "stopped moto on port $PORT"
  else
    log "nothing started by this script is running on port $PORT"
  fi
  if is_up; then
    log "note: something still answers on $(endpoint)/moto-api/ — not started by this script" \
      "(or with another SWITCHYARD_CACHE_DIR); left alone"
  fi
}

cmd_status() {
  local pid method
  if is_up; then
    method=$(meta_get method) || method=
    pid=$(cat "$(pidfile)" 2>/dev/null) || pid=
    printf 'up %s' "$(endpoint)"
    if [[ -n $method ]]; then
      printf ' (started by this script via %s%s)' "$method" "${pid:+, pid $pid}"
    fi
    printf '\n'
    return 0
  fi
  printf 'down %s\n' "$(endpoint)"
  return 3
}

start_failed() {
  local why=$1
  {
    printf '[emulator] --- last lines of %s ---\n' "$LOG_FILE"
    tail -n 20 "$LOG_FILE" 2>/dev/null | sed 's/^/[emulator] | /'
  } >&2
  stop_ours || true
  die 1 "moto did not come up on $(endpoint): $why" "see the log: $LOG_FILE"
}

launch_process() {
  local pid
  local -a cmd=("$@")
  # setsid + nohup: the server gets its own session and survives the calling shell; all of its
  # stdio goes to the log, and the port lock fd is closed so it is not held for the server's life.
  setsid nohup "${cmd[@]}" >"$LOG_FILE" 2>&1 </dev/null {PORT_LOCK_FD}>&- &
  pid=$!
  printf '%s\n' "$pid" >"$(pidfile)"
  printf 'method=%s\nhost=%s\nport=%s\nlog=%s\nversion=%s\n' \
    "$METHOD" "$HOST" "$PORT" "$LOG_FILE" "$MOTO_VERSION" >"$(metafile)"
}

launch_docker() {
  local name=switchyard-moto-$PORT v
  local -a envs=()
  while IFS= read -r v; do envs+=(-e "$v"); done < <(compgen -e | grep '^MOTO_' || true)
  docker rm -f "$name" >/dev/null 2>&1 || true
  if ! docker run -d --rm -p "$(url_host "$HOST"):$PORT:5000" --name "$name" "${envs[@]}" \
    "$DOCKER_IMAGE" >"$LOG_FILE" 2>&1 {PORT_LOCK_FD}>&-; then
    start_failed "docker run failed"
  fi
  printf '%s\n' "$name" >"$(cidfile)"
  printf 'method=docker\nhost=%s\nport=%s\nlog=%s\nversion=%s\n' \
    "$HOST" "$PORT" "$LOG_FILE" "$MOTO_VERSION" >"$(metafile)"
  # Follow the container's output into the log file; ends by itself with the container.
  setsid nohup docker logs -f "$name" >>"$LOG_FILE" 2>&1 </dev/null {PORT_LOCK_FD}>&- &
}

server_alive() {
  local pid
  if [[ $METHOD == docker ]]; then
    [[ $(docker inspect -f '{{.State.Running}}' "switchyard-moto-$PORT" 2>/dev/null) == true ]]
  else
    pid=$(cat "$(pidfile)" 2>/dev/null) || return 1
    alive "$pid"
  fi
}

start_locked() {
  local pid deadline t0=$SECONDS
  # Re-check under the lock: a concurrent `start` may have finished meanwhile.
  if is_up; then
    log "attached: moto already answers on $(endpoint)"
    endpoint
    printf '\n'
    return 0
  fi
  if [[ -f $(pidfile) || -f $(cidfile) ]]; then
    pid=$(cat "$(pidfile)" 2>/dev/null) || pid=
    if stop_ours; then
      log "an earlier server on port $PORT${pid:+ (pid $pid)} was not answering; stopped it"
    fi
  fi
  if port_in_use; then
    die 1 "port $PORT on $HOST is taken by something that does not answer GET /moto-api/ with 200" \
      "pick another port with --port or SWITCHYARD_EMULATOR_PORT"
  fi

  choose_method
  do_install

  : >"$LOG_FILE"
  case $METHOD in
  moto_server)
    launch_process "$MS_PATH" -H "$HOST" -p "$PORT"
    ;;
  debootstrap)
    local -a envs=(PATH="$ROOT_PATH" HOME=/root LANG=C.UTF-8)
    local v
    while IFS= read -r v; do envs+=("$v=${!v}"); done < <(compgen -e | grep '^MOTO_' || true)
    launch_process env -i "${envs[@]}" chroot "$MOTO_ROOT" /usr/bin/moto_server -H "$HOST" -p "$PORT"
    ;;
  docker)
    launch_docker
    ;;
  esac

  deadline=$((SECONDS + START_TIMEOUT))
  until is_up; do
    server_alive || start_failed "the server exited during startup"
    ((SECONDS < deadline)) || start_failed "no answer from $(endpoint)/moto-api/ within ${START_TIMEOUT}s"
    sleep 0.2
  done
  pid=$(cat "$(pidfile)" 2>/dev/null) || pid=
  log "started moto ${MOTO_VERSION} via $METHOD${pid:+ (pid $pid)} in $((SECONDS - t0)) s; log: $LOG_FILE"
  endpoint
  printf '\n'
}

cmd_start() {
  if is_up; then
    log "attached: moto already answers on $(endpoint)"
    endpoint
    printf '\n'
    return 0
  fi
  if ! is_loopback "$HOST" && [[ ${SWITCHYARD_EMULATOR_ALLOW_REMOTE:-} != 1 ]]; then
    die 64 "refusing to start moto on non-loopback host '$HOST' (moto has no authentication)" \
      "use 127.0.0.1 / ::1, or set SWITCHYARD_EMULATOR_ALLOW_REMOTE=1"
  fi
  have flock || die 1 "flock (util-linux) is required"
  have setsid || die 1 "setsid (util-linux) is required"
  mkdir -p "$RUN_DIR"
  if [[ -z $LOG_FILE ]]; then LOG_FILE=$RUN_DIR/moto-$PORT.log; fi
  if [[ $LOG_FILE != /* ]]; then LOG_FILE=$PWD/$LOG_FILE; fi
  mkdir -p "$(dirname -- "$LOG_FILE")"
  with_port_lock start_locked
}

# ---------------------------------------------------------------------------------------------
# main

main() {
  local sub=${1:-}
  case $sub in
  -h | --help | help)
    usage
    return 0
    ;;
  "")
    usage >&2
    return 64
    ;;
  install | start | stop | status | which) shift ;;
  *)
    log "unknown command: $sub"
    usage >&2
    return 64
    ;;
  esac

  while (($#)); do
    case $1 in
    --host | --port | --log)
      (($# >= 2)) || die 64 "$1 needs a value"
      case $1 in
      --host) HOST=$2 ;;
      --port) PORT=$2 ;;
      --log) LOG_FILE=$2 ;;
      esac
      shift 2
      ;;
    --host=*) HOST=${1#*=} && shift ;;
    --port=*) PORT=${1#*=} && shift ;;
    --log=*) LOG_FILE=${1#*=} && shift ;;
    -h | --help)
      usage
      return 0
      ;;
    *) die 64 "unknown option for $sub: $1 (see -h)" ;;
    esac
  done

  HOST=${HOST#[}
  HOST=${HOST%]}
  [[ -n $HOST ]] || die 64 "empty host"
  if ! [[ $PORT =~ ^[0-9]+$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
    die 64 "port must be a number between 1 and 65535 (got '$PORT')"
  fi
  PORT=$((10#$PORT))

  case $sub in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  which) cmd_which ;;
  esac
}

trap cleanup_build EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

main "$@"
