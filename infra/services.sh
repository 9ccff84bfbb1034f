#!/usr/bin/env bash
# Starts and stops the local servers CampaignOrchestrator needs, on 127.0.0.1 only, with their
# data under .data/infra/ (git-ignored). Installs the Debian packages when missing (as root).
#
#   infra/services.sh start [rabbitmq|postgres|smtp ...]   default: all three
#   infra/services.sh stop  [rabbitmq|postgres|smtp ...]
#   infra/services.sh status
#   infra/services.sh vhost NAME      (re)creates an empty RabbitMQ virtual host for guest (benchmarks)
#   infra/services.sh vhosts PREFIX N makes virtual hosts PREFIX1..PREFIXN for guest where missing (the tests' own, one
#                                     per test running at a time: each test's exchanges are its own)
#   infra/services.sh browser         installs Debian's chromium when missing (the dashboard's browser tests)
#   infra/services.sh tools           chromium and faketime (the tests of a worker whose clock is off)
#   infra/services.sh cluster start|stop|kill N|start-node N
#                                     a 3-node RabbitMQ cluster on 127.0.0.1:5681-5683 (quorum queues, node faults)
#
# Ports (override with the environment): RabbitMQ AMQP $RABBITMQ_PORT (5672), PostgreSQL
# $POSTGRES_PORT (5433), SMTP sink $SMTP_PORT (2525; mails land in .data/infra/mail as a Maildir).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/.data/infra"
RABBITMQ_PORT="${RABBITMQ_PORT:-5672}"
POSTGRES_PORT="${POSTGRES_PORT:-5433}"
SMTP_PORT="${SMTP_PORT:-2525}"
mkdir -p "$data"

say() { echo "[infra] $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds name
  local i
  for ((i = 0; i < $2 * 4; i++)); do port_open "$1" && return 0; sleep 0.25; done
  say "$3 did not open 127.0.0.1:$1 within $2 s"; return 1
}

apt_updated=
need_pkg() { # command package...
  command -v "$1" >/dev/null 2>&1 && return 0
  [ -x "/usr/lib/postgresql/15/bin/$1" ] && return 0
  if [ "$(id -u)" != 0 ]; then say "$1 is missing; install ${*:2} (needs root)"; return 1; fi
  if [ -z "$apt_updated" ]; then apt-get update -qq >&2; apt_updated=1; fi
  say "installing ${*:2}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:2}" >&2
}

# --- RabbitMQ ------------------------------------------------------------------------------
rabbit_env() {
  local dir="$data/rabbitmq"
  mkdir -p "$dir/mnesia" "$dir/log"
  cat > "$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$RABBITMQ_PORT
loopback_users = none
log.console = false
log.file.level = warning
# The broker refuses a message over 512 KiB at the publisher (the contract's limit is 256 KiB: between the two the
# worker refuses it, before parsing, into the error queue with the reason).
max_message_size = 524288
CONF
  echo "[]." > "$dir/enabled_plugins"
  export RABBITMQ_NODENAME="campaign@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$RABBITMQ_PORT"
  export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="${ERL_EPMD_PORT:-4392}" RABBITMQ_DIST_PORT="${RABBITMQ_DIST_PORT:-25672}"
  export RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  if id rabbitmq >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then chown -R rabbitmq:rabbitmq "$dir"; fi
}

start_rabbitmq() {
  if port_open "$RABBITMQ_PORT"; then say "RabbitMQ already listening on 127.0.0.1:$RABBITMQ_PORT"; return 0; fi
  need_pkg rabbitmq-server rabbitmq-server
  # The Debian package may start its own broker on install; ours runs on its own node and dirs.
  rabbit_env
  say "starting RabbitMQ on 127.0.0.1:$RABBITMQ_PORT"
  setsid rabbitmq-server > "$data/rabbitmq/console.log" 2>&1 < /dev/null &
  wait_port "$RABBITMQ_PORT" 90 RabbitMQ
  rabbitmqctl -q await_startup >/dev/null 2>&1 || true
}

stop_rabbitmq() {
  command -v rabbitmqctl >/dev/null 2>&1 || return 0
  rabbit_env
  if rabbitmqctl -q stop >/dev/null 2>&1; then say "RabbitMQ stopped"; fi
}

# --- PostgreSQL ----------------------------------------------------------------------------
pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }; done
  return 1
}

start_postgres() {
  if port_open "$POSTGRES_PORT"; then say "PostgreSQL already listening on 127.0.0.1:$POSTGRES_PORT"; return 0; fi
  pg_bin >/dev/null || need_pkg initdb postgresql
  local bin dir="$data/postgres" run=(runuser -u postgres --)
  bin="$(pg_bin)"
  [ "$(id -u)" = 0 ] || run=()
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    say "initialising PostgreSQL in $dir"
    "${run[@]}" "$bin/initdb" -D "$dir" --auth=trust --username=postgres -E UTF8 >/dev/null
  fi
  say "starting PostgreSQL on 127.0.0.1:$POSTGRES_PORT"
  "${run[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-p $POSTGRES_PORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
}

stop_postgres() {
  local bin dir="$data/postgres" run=(runuser -u postgres --)
  [ -f "$dir/postmaster.pid" ] || return 0
  bin="$(pg_bin)" || return 0
  [ "$(id -u)" = 0 ] || run=()
  "${run[@]}" "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null && say "PostgreSQL stopped"
}

# --- SMTP sink -----------------------------------------------------------------------------
start_smtp() {
  if port_open "$SMTP_PORT"; then say "SMTP sink already listening on 127.0.0.1:$SMTP_PORT"; return 0; fi
  /usr/bin/python3 -c "import aiosmtpd" 2>/dev/null || need_pkg __aiosmtpd_missing__ python3-aiosmtpd
  mkdir -p "$data/mail/tmp" "$data/mail/new" "$data/mail/cur"  # a Maildir: the sink refuses mail (500) without them
  say "starting SMTP sink on 127.0.0.1:$SMTP_PORT (Maildir $data/mail)"
  setsid /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$data/mail" \
    > "$data/smtp.log" 2>&1 < /dev/null &
  echo $! > "$data/smtp.pid"
  wait_port "$SMTP_PORT" 20 "SMTP sink"
}

stop_smtp() {
  [ -f "$data/smtp.pid" ] || return 0
  kill "$(cat "$data/smtp.pid")" 2>/dev/null && say "SMTP sink stopped"
  rm -f "$data/smtp.pid"
}

# --- A 3-node RabbitMQ cluster on loopback (the fault tests: quorum queues, a node killed) --------------
# Nodes cluster1..3@localhost on AMQP ports $CLUSTER_PORT_BASE+1..3 (5681-5683), distribution ports 25681-25683, data
# under .data/infra/rabbitmq-cluster/nodeN. Independent of the single broker above (which may run beside it).
CLUSTER_PORT_BASE="${CLUSTER_PORT_BASE:-5680}"

cluster_env() { # node number
  local n="$1" dir="$data/rabbitmq-cluster/node$1"
  mkdir -p "$dir/mnesia" "$dir/log"
  cat > "$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$((CLUSTER_PORT_BASE + n))
loopback_users = none
log.console = false
log.file.level = warning
max_message_size = 524288
CONF
  echo "[]." > "$dir/enabled_plugins"
  export RABBITMQ_NODENAME="cluster$n@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$((CLUSTER_PORT_BASE + n))"
  export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="${ERL_EPMD_PORT:-4392}" RABBITMQ_DIST_PORT="$((25680 + n))"
  export RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_PID_FILE="$dir/pid"
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  if id rabbitmq >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then chown -R rabbitmq:rabbitmq "$dir"; fi
}

cluster_node_start() { # node number
  local n="$1"
  port_open "$((CLUSTER_PORT_BASE + n))" && return 0
  cluster_env "$n"
  say "starting RabbitMQ cluster node $n on 127.0.0.1:$((CLUSTER_PORT_BASE + n))"
  setsid rabbitmq-server > "$data/rabbitmq-cluster/node$n/console.log" 2>&1 < /dev/null &
  wait_port "$((CLUSTER_PORT_BASE + n))" 90 "RabbitMQ cluster node $n"
  rabbitmqctl -n "cluster$n@localhost" -q await_startup >/dev/null 2>&1 || true
}

cluster_start() {
  need_pkg rabbitmq-server rabbitmq-server
  local n
  for n in 1 2 3; do cluster_node_start "$n"; done
  for n in 2 3; do
    cluster_env "$n"
    if ! rabbitmqctl -n "cluster$n@localhost" -q cluster_status 2>/dev/null | grep -q "cluster1@localhost"; then
      rabbitmqctl -n "cluster$n@localhost" -q stop_app
      rabbitmqctl -n "cluster$n@localhost" -q join_cluster cluster1@localhost
      rabbitmqctl -n "cluster$n@localhost" -q start_app
      say "node $n joined cluster1@localhost"
    fi
  done
}

cluster_stop() {
  command -v rabbitmqctl >/dev/null 2>&1 || return 0
  local n
  for n in 3 2 1; do
    cluster_env "$n"
    rabbitmqctl -n "cluster$n@localhost" -q stop >/dev/null 2>&1 && say "RabbitMQ cluster node $n stopped" || true
  done
}

cluster_kill() { # node number: SIGKILL, as a crashed machine
  cluster_env "$1"
  [ -f "$RABBITMQ_PID_FILE" ] && kill -9 "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null && say "RabbitMQ cluster node $1 killed" || true
}

status() {
  local name port
  for name in rabbitmq:$RABBITMQ_PORT postgres:$POSTGRES_PORT smtp:$SMTP_PORT; do
    port="${name#*:}"
    if port_open "$port"; then echo "${name%%:*}: up on 127.0.0.1:$port"; else echo "${name%%:*}: down"; fi
  done
}

cmd="${1:-status}"; shift || true
services=("$@"); [ ${#services[@]} -gt 0 ] || services=(rabbitmq postgres smtp)
[ "$cmd" = vhost ] || [ "$cmd" = vhosts ] || [ "$cmd" = browser ] || [ "$cmd" = tools ] || [ "$cmd" = cluster ] || [ "$cmd" = max-message-size ] && services=()
case "$cmd" in
  start) for s in "${services[@]}"; do "start_$s"; done ;;
  stop) for s in "${services[@]}"; do "stop_$s" || true; done ;;
  status) status ;;
  browser) need_pkg chromium chromium fonts-dejavu-core && say "chromium: $(command -v chromium)" ;;
  tools) # what the tests drive besides the servers: chromium (dashboard), faketime (a worker whose clock is off)
    need_pkg chromium chromium fonts-dejavu-core && need_pkg faketime faketime && say "chromium: $(command -v chromium); faketime: $(command -v faketime)" ;;
  vhost)
    [ $# -eq 1 ] || { echo "usage: $0 vhost NAME" >&2; exit 2; }
    rabbit_env
    rabbitmqctl -q delete_vhost "$1" >/dev/null 2>&1 || true
    rabbitmqctl -q add_vhost "$1" >/dev/null
    rabbitmqctl -q set_permissions -p "$1" guest ".*" ".*" ".*" >/dev/null
    say "RabbitMQ virtual host $1 is new and empty" ;;
  vhosts)
    [ $# -eq 2 ] && [[ "$2" =~ ^[0-9]+$ ]] || { echo "usage: $0 vhosts PREFIX N" >&2; exit 2; }
    rabbit_env
    defs="$(mktemp)"
    # One rabbitmqctl call for all of them (each call starts an Erlang VM: about a second).
    { printf '{"vhosts":['; for ((i = 1; i <= $2; i++)); do printf '%s{"name":"%s%d"}' "$([ $i -gt 1 ] && echo ,)" "$1" "$i"; done
      printf '],"permissions":['; for ((i = 1; i <= $2; i++)); do
        printf '%s{"user":"guest","vhost":"%s%d","configure":".*","write":".*","read":".*"}' "$([ $i -gt 1 ] && echo ,)" "$1" "$i"; done
      printf ']}'; } > "$defs"
    chmod 644 "$defs"
    rabbitmqctl -q import_definitions "$defs" >/dev/null
    rm -f "$defs"
    say "RabbitMQ virtual hosts $1""1..$1$2 are there" ;;
  max-message-size) # the running broker's max_message_size until it restarts (a test of a broker without the limit)
    [[ "${1:-}" =~ ^[0-9]+$ ]] || { echo "usage: $0 max-message-size BYTES" >&2; exit 2; }
    rabbit_env
    rabbitmqctl -q eval "application:set_env(rabbit, max_message_size, $1)." >/dev/null
    say "RabbitMQ max_message_size is $1 until it restarts" ;;
  cluster)
    case "${1:-}" in
      start) cluster_start ;;
      stop) cluster_stop ;;
      kill) cluster_kill "${2:?node number}" ;;
      start-node) cluster_node_start "${2:?node number}" ;;
      queues) cluster_env 3; rabbitmqctl -n cluster3@localhost -q list_queues name type ;;
      vhost)
        cluster_env 1
        rabbitmqctl -n cluster1@localhost -q delete_vhost "${2:?name}" >/dev/null 2>&1 || true
        rabbitmqctl -n cluster1@localhost -q add_vhost "$2" >/dev/null
        rabbitmqctl -n cluster1@localhost -q set_permissions -p "$2" guest ".*" ".*" ".*" >/dev/null
        say "RabbitMQ cluster virtual host $2 is new and empty" ;;
      *) echo "usage: $0 cluster start|stop|kill N|start-node N|queues|vhost NAME" >&2; exit 2 ;;
    esac ;;
  *) echo "usage: $0 start|stop|status [rabbitmq|postgres|smtp ...] | cluster start|stop|kill N|start-node N" >&2; exit 2 ;;
esac
