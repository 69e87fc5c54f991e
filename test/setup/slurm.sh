#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine for the tests of eval.runner: installs
# Debian's slurmd, slurmctld, slurm-client and munge when missing, starts munged, writes
# /etc/slurm/slurm.conf (one node: this host, all its CPUs, one default partition), starts
# slurmctld and slurmd, and waits until `sinfo` shows the node idle. Idempotent: a second run
# finds the cluster up and only checks it. Needs root and apt-get (or the packages already
# installed); no systemd: the daemons are started directly. Not a production setup: no
# accounting, no cgroups, the controller runs as root.
# Usage: test/setup/slurm.sh   (environment: SLURM_SETUP_TIMEOUT_S, default 60)
set -euo pipefail

HOST="$(hostname -s)"
CPUS="$(nproc)"
CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
STATE_DIR=/var/lib/slurm/slurmctld # the controller's saved state
SPOOL_DIR=/var/spool/slurmd        # slurmd's spool
LOG_DIR=/var/log/slurm
RUN_DIR=/run/slurm
TIMEOUT_S="${SLURM_SETUP_TIMEOUT_S:-60}" # seconds to wait for the node to be idle

say() { echo "slurm setup: $*" >&2; }
fail() {
  say "error: $*"
  exit 1
}

[[ "$(id -u)" -eq 0 ]] || fail "run as root (it installs packages and starts daemons): sudo $0"

missing=()
for binary in slurmctld slurmd sinfo munged; do
  command -v "$binary" > /dev/null || missing+=("$binary")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  command -v apt-get > /dev/null \
    || fail "${missing[*]} missing and apt-get is not available; install slurmd slurmctld slurm-client munge"
  say "installing slurmd slurmctld slurm-client munge (missing: ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q > /dev/null
  apt-get install -y -q --no-install-recommends slurmd slurmctld slurm-client munge > /dev/null
fi

# munge: the key must belong to munge and be readable by it alone, or munged refuses to start.
install -d -o munge -g munge -m 0700 /etc/munge
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
if [[ ! -s /etc/munge/munge.key ]]; then
  say "creating /etc/munge/munge.key"
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n < /dev/null > /dev/null 2>&1; then
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 50); do munge -n < /dev/null > /dev/null 2>&1 && break; sleep 0.1; done
  munge -n < /dev/null > /dev/null 2>&1 || fail "munged did not start (see /var/log/munge/munged.log)"
fi

install -d -m 0755 "$CONF_DIR" "$STATE_DIR" "$SPOOL_DIR" "$LOG_DIR" "$RUN_DIR"
config="$(cat << EOF
# Written by test/setup/slurm.sh: a single-node test cluster.
ClusterName=autoresearch
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$HOST CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
)"
changed=0
if [[ ! -f "$CONF" ]] || [[ "$(cat "$CONF")" != "$config" ]]; then
  say "writing $CONF"
  printf '%s\n' "$config" > "$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
  changed=1
fi

running() { pgrep -x "$1" > /dev/null; }
if running slurmctld && [[ "$changed" -eq 1 ]]; then
  say "restarting slurmctld and slurmd for the new configuration"
  scontrol shutdown > /dev/null 2>&1 || true
  for _ in $(seq 100); do running slurmctld || running slurmd || break; sleep 0.1; done
fi
if ! running slurmctld; then
  say "starting slurmctld"
  slurmctld
fi
if ! running slurmd; then
  say "starting slurmd"
  slurmd
fi

deadline=$((SECONDS + TIMEOUT_S))
state=""
while [[ $SECONDS -lt $deadline ]]; do
  state="$(sinfo --noheader --nodes="$HOST" --format=%t 2> /dev/null | head -1 || true)"
  case "$state" in
    idle | mix | alloc) break ;; # mix/alloc: up and already running a job
    down* | drain* | fail*) scontrol update NodeName="$HOST" State=RESUME > /dev/null 2>&1 || true ;;
  esac
  sleep 0.5
done
case "$state" in
  idle | mix | alloc) say "node $HOST is $state ($CPUS CPUs); ready" ;;
  *) fail "node $HOST is not idle after ${TIMEOUT_S} s (sinfo says '${state:-nothing}'); see $LOG_DIR/slurmctld.log and $LOG_DIR/slurmd.log" ;;
esac
