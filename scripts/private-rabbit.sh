#!/usr/bin/env bash
# A private RabbitMQ (one node, or a cluster) for tests and benchmarks, beside the shared
# broker of 127.0.0.1:5672 and never touching it: its own node names, ports, data directory,
# Erlang cookie, configuration and plugins.
#
#   scripts/private-rabbit.sh start --name NAME --nodes N --base-port P [--plugins "a b"] [--tls DIR]
#   scripts/private-rabbit.sh stop --name NAME [--graceful]
#   scripts/private-rabbit.sh stop-node --name NAME --node K [--kill]
#   scripts/private-rabbit.sh start-node --name NAME --node K
#   scripts/private-rabbit.sh status --name NAME
#
# --plugins: the plugins to enable, default "rabbitmq_management" (e.g. "rabbitmq_management
# rabbitmq_shovel rabbitmq_shovel_management"). Without rabbitmq_management there is no
# management port and a node is "up" once its AMQP port accepts connections.
#
# --tls DIR: each node also takes AMQP over TLS (AMQPS) and, with the management plugin,
# HTTPS, with DIR/ca.pem, DIR/server.pem and DIR/server.key, and requires a client
# certificate signed by that CA on both (verify_peer, fail_if_no_peer_cert). The plain ports
# stay as they are.
#
# Node K (1..N) of NAME is `NAME-K@localhost`: short names on `localhost`, which resolves on
# any machine (the host name may not) and is how the shared node is named (rabbit@localhost,
# in /etc/rabbitmq/rabbitmq-env.conf, which is not read here). Ports of node K, on 127.0.0.1
# only:
#   AMQP          P + K - 1
#   management    P + 10000 + K - 1
#   distribution  P + 20000 + K - 1        (RabbitMQ's own "AMQP + 20000" rule)
#   CLI tools     P + 30000 .. P + 30009   (rabbitmqctl's own distribution ports)
#   AMQPS         P + 40000 + K - 1        (with --tls)
#   HTTPS         P + 50000 + K - 1        (with --tls and the management plugin)
# P must keep all of them clear of the shared node's 5672, 15672, 25672 and 35672-35682, and
# of another private cluster's: e.g. P = 5700 (benchmarks) and P = 5800 (tests). The Erlang
# port mapper (epmd, 4369) is shared, as it must be.
#
# Data, logs and the cookie live under ${TMPDIR:-/tmp}/topology-rabbit-NAME/ (node-K/out.log:
# the server's output, node-K/log/: its logs). Cookie: a random one in home/.erlang.cookie
# there, and every command (the nodes and rabbitmqctl alike) runs with HOME set to that home,
# so they always agree, whoever runs this (root in CI, a user locally). The invoking user's
# ~/.erlang.cookie is neither needed nor touched (beware: a rabbitmqctl run as root with
# another HOME quietly creates a random /root/.erlang.cookie, and then fails to authenticate).
# RABBITMQ_ERLANG_COOKIE works on 3.10 too, but the CLI warns that it is deprecated on every
# call.
#
# start: all nodes boot at once; nodes 2..N are configured (classic peer discovery) to join
# node 1 at their first boot and retry for up to 60 s until node 1's tables are there, which
# spares the stop_app / join_cluster / start_app round trip (4 s a node here); a node that
# still came up alone is joined that way. Idempotent: when NAME already runs with the same
# nodes, ports and plugins and every node answers, start only prints the ports; otherwise
# whatever is left of NAME is stopped and wiped first. A start that fails stops what it
# started. Nodes run in their own session (setsid) and outlive the caller until `stop`.
#
# stop: kills every process of NAME (found by a marker in their environment, so nothing else
# is ever signalled) and removes the directory; the data is thrown away, so by default there
# is no graceful shutdown (RabbitMQ 3.10's takes ~6 s a node here; --graceful for one).
# stop-node: a graceful stop of one node (SIGTERM, which RabbitMQ handles like `rabbitmqctl
# stop`), or with --kill a crash (SIGKILL, instant); its data is kept for start-node.
#
# Needs only the rabbitmq-server package (and bash, grep, coreutils).
set -euo pipefail

PROG=private-rabbit
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}
usage() {
  sed -n '6,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 64
}

# The package's /usr/sbin wrappers switch to the `rabbitmq` user and its files; the scripts
# behind them run as whoever calls them, which is what a private node needs.
SBIN=""
for d in /usr/lib/rabbitmq/bin /usr/local/lib/rabbitmq/bin; do
  [[ -x $d/rabbitmq-server ]] && SBIN=$d && break
done
[[ -n $SBIN ]] || die "RabbitMQ is not installed (no /usr/lib/rabbitmq/bin/rabbitmq-server): apt-get install rabbitmq-server"

CMD=${1:-}
[[ -n $CMD ]] || usage
shift
NAME="" NODES=1 BASE="" PLUGINS="rabbitmq_management" NODE="" GRACEFUL="" KILL="" TLS=""
WAIT=${PRIVATE_RABBIT_WAIT:-120}
while [[ $# -gt 0 ]]; do
  case $1 in
  --name | --nodes | --base-port | --plugins | --node | --tls)
    [[ $# -ge 2 ]] || die "$1 needs a value"
    case $1 in
    --name) NAME=$2 ;;
    --nodes) NODES=$2 ;;
    --base-port) BASE=$2 ;;
    --plugins) PLUGINS=$2 ;;
    --node) NODE=$2 ;;
    --tls) TLS=$2 ;;
    esac
    shift 2
    ;;
  --graceful) GRACEFUL=1; shift ;;
  --kill) KILL=1; shift ;;
  -h | --help) usage ;;
  *) die "unknown argument: $1" ;;
  esac
done
[[ $NAME =~ ^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$ ]] ||
  die "--name is required: letters, digits, _ and - (got '$NAME')"
PLUGINS=$(echo "$PLUGINS" | xargs)
ROOT=${TMPDIR:-/tmp}
ROOT="${ROOT%/}/topology-rabbit-$NAME"
STATE=$ROOT/state

node_name() { printf '%s-%s@localhost' "$NAME" "$1"; }
amqp_port() { echo $((BASE + $1 - 1)); }
mgmt_port() { echo $((BASE + 10000 + $1 - 1)); }
dist_port() { echo $((BASE + 20000 + $1 - 1)); }
amqps_port() { echo $((BASE + 40000 + $1 - 1)); }
https_port() { echo $((BASE + 50000 + $1 - 1)); }
has_management() { [[ " $PLUGINS " == *" rabbitmq_management "* ]]; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# GET http://127.0.0.1:PORT/api/PATH as guest, with bash alone (no curl): the response,
# status line first; false when nothing answers.
http_get() {
  local response
  {
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET /api/%s HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\n\r\n' "$2" >&3
    response=$(timeout 10 cat <&3) || true
    exec 3<&-
  } 2>/dev/null
  [[ -n $response ]] && printf '%s\n' "$response"
}

management_answers() {
  [[ $(http_get "$1" overview | head -n 1) == "HTTP/1."?" 200"* ]]
}

# Runs a command in node K's environment (a subshell).
with_node() {
  local k=$1
  shift
  local dir=$ROOT/node-$k
  (
    export HOME=$ROOT/home
    export TOPOLOGY_PRIVATE_RABBIT=$ROOT # the marker our_pids looks for
    export RABBITMQ_NODENAME RABBITMQ_NODE_PORT RABBITMQ_DIST_PORT
    RABBITMQ_NODENAME=$(node_name "$k")
    RABBITMQ_NODE_PORT=$(amqp_port "$k")
    RABBITMQ_DIST_PORT=$(dist_port "$k")
    export RABBITMQ_USE_LONGNAME=false RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_CTL_DIST_PORT_MIN=$((BASE + 30000)) RABBITMQ_CTL_DIST_PORT_MAX=$((BASE + 30009))
    export RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log RABBITMQ_PID_FILE=$dir/pid
    export RABBITMQ_PLUGINS_EXPAND_DIR=$dir/plugins-expand
    export RABBITMQ_CONFIG_FILE=$dir/rabbitmq.config RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config
    export RABBITMQ_CONFIG_FILES=$dir/conf.d RABBITMQ_CONF_ENV_FILE=$ROOT/rabbitmq-env.conf
    export RABBITMQ_ENABLED_PLUGINS_FILE=$ROOT/enabled_plugins
    export RABBITMQ_LOG=${PRIVATE_RABBIT_LOG:-info}
    # Erlang distribution on loopback only, like the shared node's (its rabbitmq-env.conf).
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export ERL_EPMD_ADDRESS=127.0.0.1
    unset RABBITMQ_ERLANG_COOKIE RABBITMQ_ENABLED_PLUGINS RABBITMQ_BASE ERL_FLAGS ERL_LIBS
    "$@"
  )
}

ctl() {
  local k=$1
  shift
  with_node "$k" "$SBIN/rabbitmqctl" -n "$(node_name "$k")" "$@"
}

# Pids of the processes of NAME (or of its node K), by the marker in their environment.
our_pids() {
  local k=${1:-} files f
  files=$(grep -lzsxF "TOPOLOGY_PRIVATE_RABBIT=$ROOT" /proc/[0-9]*/environ || true)
  [[ -n $files ]] || return 0
  if [[ -n $k ]]; then
    # shellcheck disable=SC2086
    files=$(grep -lzsxF "RABBITMQ_NODENAME=$(node_name "$k")" $files || true)
  fi
  for f in $files; do
    f=${f#/proc/}
    echo "${f%/environ}"
  done
}

node_up() {
  local k=$1
  port_open "$(amqp_port "$k")" || return 1
  if has_management; then management_answers "$(mgmt_port "$k")" || return 1; fi
}

wait_node() {
  local k=$1 i
  for ((i = 0; i < WAIT * 5; i++)); do
    node_up "$k" && return 0
    # (the marker is only in the environment once the server script runs: not at once)
    if ((i >= 10 && i % 5 == 0)) && [[ -z $(our_pids "$k") ]]; then
      say "node $(node_name "$k") exited while starting; the end of its output:"
      tail -n 40 "$ROOT/node-$k/out.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  say "node $(node_name "$k") did not answer within ${WAIT}s; the end of its log:"
  tail -n 40 "$ROOT/node-$k/log/$(node_name "$k").log" >&2 2>/dev/null ||
    tail -n 40 "$ROOT/node-$k/out.log" >&2 || true
  return 1
}

launch_node() {
  local k=$1
  mkdir -p "$ROOT/node-$k/log" "$ROOT/node-$k/mnesia"
  with_node "$k" setsid "$SBIN/rabbitmq-server" >>"$ROOT/node-$k/out.log" 2>&1 </dev/null &
}

# Stops node K: SIGTERM to its Erlang VM (RabbitMQ then stops gracefully, as on `rabbitmqctl
# stop`, without the cost of starting the CLI), or SIGKILL with SIG=KILL. Then SIGKILL to
# what is left of it (the server script, erl_child_setup, inet_gethost): once the VM is gone,
# or after 30 s.
halt_node() {
  local k=$1 vm="" p i alive=""
  for p in $(our_pids "$k"); do
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == beam.smp ]] && vm+=" $p"
  done
  if [[ -n $vm ]]; then
    # shellcheck disable=SC2086
    kill "-${SIG:-TERM}" $vm 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
      alive=""
      for p in $vm; do kill -0 "$p" 2>/dev/null && alive=1; done
      [[ -z $alive ]] && break
      sleep 0.1
    done
    [[ -z $alive ]] || say "node $(node_name "$k") still runs after 30 s: killing it"
  fi
  for ((i = 0; i < 20; i++)); do
    p=$(our_pids "$k")
    [[ -z $p ]] && return 0
    # shellcheck disable=SC2086
    kill -KILL $p 2>/dev/null || true
    sleep 0.1
  done
  say "warning: processes of $(node_name "$k") survive SIGKILL: $(our_pids "$k" | xargs)"
}

print_ports() {
  local k line
  for ((k = 1; k <= NODES; k++)); do
    line="$(node_name "$k") amqp=127.0.0.1:$(amqp_port "$k")"
    has_management && line+=" management=http://127.0.0.1:$(mgmt_port "$k")"
    [[ -n ${TLS:-} ]] && line+=" amqps=127.0.0.1:$(amqps_port "$k")"
    [[ -n ${TLS:-} ]] && has_management && line+=" https=127.0.0.1:$(https_port "$k")"
    echo "$line dist=$(dist_port "$k")"
  done
}

load_state() {
  [[ -f $STATE ]] || die "no private RabbitMQ named '$NAME' (no $STATE): start it first"
  # shellcheck disable=SC1090
  source "$STATE"
}

check_node_arg() {
  [[ $NODE =~ ^[0-9]+$ ]] && ((NODE >= 1 && NODE <= NODES)) || die "--node must be 1..$NODES"
}

check_args() {
  [[ $NODES =~ ^[1-9][0-9]?$ ]] || die "--nodes must be 1..99"
  [[ $BASE =~ ^[0-9]+$ ]] || die "--base-port is required (e.g. 5700)"
  ((BASE >= 1024 && BASE + 30009 <= 65535)) || die "--base-port must be in 1024..35526"
  local k p
  for ((k = 1; k <= NODES; k++)); do
    for p in "$(amqp_port "$k")" "$(mgmt_port "$k")" "$(dist_port "$k")"; do
      case $p in 4369 | 5672 | 15672 | 25672 | 3567[2-9] | 3568[0-2])
        die "port $p belongs to the shared broker: choose another --base-port" ;;
      esac
    done
  done
  ((BASE + 30009 < 35672 || BASE + 30000 > 35682)) ||
    die "the CLI ports $((BASE + 30000))-$((BASE + 30009)) overlap the shared broker's 35672-35682"
  for p in $PLUGINS; do
    [[ $p =~ ^[a-z0-9_]+$ ]] || die "bad plugin name '$p'"
    [[ -n $(compgen -G "$SBIN/../lib/rabbitmq_server-*/plugins/$p-*") ]] ||
      die "no plugin $p in this RabbitMQ"
  done
}

stop_all() {
  if [[ ! -d $ROOT ]]; then
    say "'$NAME' is not running (no $ROOT)"
    return 0
  fi
  local k any=""
  [[ -n $(our_pids) ]] && any=1
  for k in $(find "$ROOT" -maxdepth 1 -name 'node-*' -printf '%f\n' | sed 's/^node-//'); do
    if [[ -n $GRACEFUL ]]; then halt_node "$k" & else SIG=KILL halt_node "$k" & fi
  done
  wait
  local left
  left=$(our_pids)
  # shellcheck disable=SC2086
  [[ -z $left ]] || kill -KILL $left 2>/dev/null || true
  rm -rf "$ROOT"
  if [[ -n $any ]]; then say "stopped '$NAME' and removed $ROOT"; else say "'$NAME' was not running; removed $ROOT"; fi
}

# Names of the running members of node K's cluster, one a line: from the management API
# when there is one (a CLI call costs a second or two).
running_members() {
  if has_management; then
    http_get "$(mgmt_port "$1")" "nodes?columns=name,running" | tail -n 1 | sed 's/},{/}\n{/g' |
      grep '"running":true' | grep -o '"name":"[^"]*"' | cut -d'"' -f4 || true
  else
    ctl "$1" eval '[io:format("~s~n", [N]) || N <- rabbit_nodes:all_running()], ok.' 2>/dev/null |
      grep '@' || true
  fi
}

cmd_start() {
  check_args
  local want k p t0=$SECONDS
  if [[ -n $TLS ]]; then
    TLS=$(cd "$TLS" && pwd) || die "--tls: no directory '$TLS'"
    for f in ca.pem server.pem server.key; do
      [[ -r $TLS/$f ]] || die "--tls: no $TLS/$f"
    done
  fi
  want="NODES=$NODES BASE=$BASE PLUGINS='$PLUGINS' TLS='$TLS'"
  if [[ -f $STATE && $(cat "$STATE") == "$want" ]]; then
    local all=1
    for ((k = 1; k <= NODES; k++)); do node_up "$k" || all=""; done
    if [[ -n $all ]]; then
      say "'$NAME' already runs ($NODES node(s)), left as it is"
      print_ports
      return 0
    fi
    say "'$NAME' exists but not every node answers: starting it afresh"
  fi
  [[ -d $ROOT ]] && stop_all
  for ((k = 1; k <= NODES; k++)); do
    for p in "$(amqp_port "$k")" "$(dist_port "$k")" $(has_management && mgmt_port "$k") \
      $([[ -n $TLS ]] && amqps_port "$k") $([[ -n $TLS ]] && has_management && https_port "$k"); do
      port_open "$p" && die "port $p on 127.0.0.1 is already taken: choose another --base-port"
    done
  done
  mkdir -p "$ROOT/home"
  chmod 700 "$ROOT"
  (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr 'a-f' 'A-F' >"$ROOT/home/.erlang.cookie")
  chmod 400 "$ROOT/home/.erlang.cookie"
  : >"$ROOT/rabbitmq-env.conf"
  echo "[${PLUGINS// /,}]." >"$ROOT/enabled_plugins"
  for ((k = 1; k <= NODES; k++)); do
    mkdir -p "$ROOT/node-$k"
    # Erlang terms (the classic format): nothing for cuttlefish to translate.
    local rabbit="{loopback_users, [<<\"guest\">>]}"
    if ((k > 1)); then
      rabbit+=", {cluster_nodes, {['$(node_name 1)'], disc}}"
      rabbit+=", {cluster_formation, [{discovery_retry_limit, 120}, {discovery_retry_interval, 500}]}"
    fi
    local files=""
    if [[ -n $TLS ]]; then
      files="{cacertfile, \"$TLS/ca.pem\"}, {certfile, \"$TLS/server.pem\"}, {keyfile, \"$TLS/server.key\"}, {verify, verify_peer}, {fail_if_no_peer_cert, true}"
      rabbit+=", {ssl_listeners, [{\"127.0.0.1\", $(amqps_port "$k")}]}, {ssl_options, [$files]}"
    fi
    {
      echo "["
      if has_management; then
        local https=""
        [[ -n $TLS ]] && https=", {ssl_config, [{ip, \"127.0.0.1\"}, {port, $(https_port "$k")}, $files]}"
        echo "  {rabbitmq_management, [{tcp_config, [{ip, \"127.0.0.1\"}, {port, $(mgmt_port "$k")}]}$https]},"
      fi
      echo "  {rabbit, [$rabbit]}"
      echo "]."
    } >"$ROOT/node-$k/rabbitmq.config"
  done
  echo "$want" >"$STATE"
  say "starting '$NAME': $NODES node(s) under $ROOT"
  trap 'say "start failed: stopping what it started"; stop_all' ERR
  for ((k = 1; k <= NODES; k++)); do launch_node "$k"; done
  for ((k = 1; k <= NODES; k++)); do
    wait_node "$k" || false
  done
  if ((NODES > 1)); then
    local members
    members=$(running_members 1)
    for ((k = 2; k <= NODES; k++)); do
      grep -qxF "$(node_name "$k")" <<<"$members" && continue
      say "node $(node_name "$k") came up alone: joining it to $(node_name 1)"
      local c
      for c in stop_app reset "join_cluster $(node_name 1)" start_app; do
        # shellcheck disable=SC2086
        ctl "$k" $c >>"$ROOT/node-$k/join.log" 2>&1 ||
          { say "rabbitmqctl $c failed:"; tail -n 20 "$ROOT/node-$k/join.log" >&2; false; }
      done
      wait_node "$k" || false
    done
    members=$(running_members 1)
    [[ $(grep -c @ <<<"$members") == "$NODES" ]] ||
      { say "the cluster's running nodes are: $(xargs <<<"$members")"; false; }
    # Nodes that boot together can form a cluster whose feature flags are not all enabled
    # (seen in CI: node 2 refused a quorum queue, "the corresponding feature flag is
    # disabled"). A fresh cluster has no old node to stay compatible with: each node is told
    # to enable them all, until it says quorum queues are enabled (a CLI call can also fail
    # on a loaded machine: tried again, for up to 20 rounds).
    for ((k = 1; k <= NODES; k++)); do
      local round on=""
      for ((round = 1; round <= 20; round++)); do
        ctl "$k" enable_feature_flag all >>"$ROOT/node-$k/join.log" 2>&1 || true
        if ctl "$k" list_feature_flags name state 2>>"$ROOT/node-$k/join.log" |
          grep -Eq '^quorum_queue[[:space:]]+enabled'; then
          on=1
          break
        fi
        sleep 1
      done
      [[ -n $on ]] || {
        say "node $(node_name "$k") does not enable the quorum_queue feature flag:"
        tail -n 20 "$ROOT/node-$k/join.log" >&2
        false
      }
    done
  fi
  trap - ERR
  say "'$NAME' is up in $((SECONDS - t0))s"
  print_ports
}

cmd_stop_node() {
  load_state
  check_node_arg
  if [[ -z $(our_pids "$NODE") ]]; then
    say "node $(node_name "$NODE") is already stopped"
    return 0
  fi
  if [[ -n $KILL ]]; then SIG=KILL halt_node "$NODE"; else halt_node "$NODE"; fi
  say "$([[ -n $KILL ]] && echo killed || echo stopped) node $(node_name "$NODE") (its data is kept: start-node starts it again)"
}

cmd_start_node() {
  load_state
  check_node_arg
  if node_up "$NODE"; then
    say "node $(node_name "$NODE") already runs"
    return 0
  fi
  [[ -z $(our_pids "$NODE") ]] || halt_node "$NODE"
  local t0=$SECONDS
  launch_node "$NODE"
  wait_node "$NODE" || die "node $(node_name "$NODE") did not start again (see $ROOT/node-$NODE)"
  say "started node $(node_name "$NODE") in $((SECONDS - t0))s"
}

cmd_status() {
  load_state
  local k
  for ((k = 1; k <= NODES; k++)); do
    if node_up "$k"; then echo "$(node_name "$k") up"; else echo "$(node_name "$k") down"; fi
  done
  print_ports
}

case $CMD in
start) cmd_start ;;
stop) stop_all ;;
stop-node) cmd_stop_node ;;
start-node) cmd_start_node ;;
status) cmd_status ;;
-h | --help | help) usage ;;
*) die "unknown command '$CMD' (start, stop, stop-node, start-node, status)" ;;
esac
