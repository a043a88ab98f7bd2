#!/usr/bin/env bash
# cluster.sh — a real single-node Slurm on localhost, for tests: munged, slurmctld and slurmd,
# each started from files in DIR (a munge key, a generated slurm.conf, state, spool, logs) on
# ports of their own, and stopped again. Needs Debian's slurmctld, slurmd, slurm-client and munge
# (scripts/setup.sh installs them); as root, or as a user who then runs jobs of its own only.
#
#   tests/slurm/cluster.sh up DIR     # start; waits until the node is idle; prints SLURM_CONF=...
#   tests/slurm/cluster.sh down DIR   # stop every daemon started from DIR
#   SLURM_CONF=DIR/slurm.conf sbatch|squeue|scancel|scontrol ...
# Exit status 0, or 1 with the reason on stderr (and the daemons' last log lines).
set -u
cmd=${1:?usage: cluster.sh up|down DIR}
dir=${2:?usage: cluster.sh up|down DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

fail() {
  echo "slurm cluster: $*" >&2
  for f in "$dir"/log/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
  exit 1
}

stop() {   # stop the daemon whose pid file is $1
  local pid
  [ -f "$1" ] || return 0
  pid=$(cat "$1" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  rm -f "$1"
}

if [ "$cmd" = down ]; then
  SLURM_CONF=$dir/slurm.conf scancel --quiet --full --user="$(id -un)" 2>/dev/null
  stop "$dir/slurmd.pid"
  stop "$dir/slurmctld.pid"
  stop "$dir/munge/munged.pid"
  exit 0
fi
[ "$cmd" = up ] || fail "unknown command $cmd (up or down)"

for p in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
  command -v "$p" >/dev/null || fail "$p is not installed (scripts/setup.sh installs slurmctld slurmd slurm-client munge)"
done
# As root the daemons run as root; as another user they run as that user, who can then start jobs
# of its own only (enough for a test).
user=$(id -un)

mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
chmod 700 "$dir/munge"
if [ ! -f "$dir/munge/munge.key" ]; then
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null || fail "cannot make a munge key"
  chmod 400 "$dir/munge/munge.key"
fi
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" --log-file="$dir/log/munged.log" \
  || fail "munged did not start"
munge -S "$dir/munge/munge.socket" -n | unmunge -S "$dir/munge/munge.socket" >/dev/null \
  || fail "munge cannot encode and decode a credential"

# Ports of this cluster's own, so that two test runs on one machine do not meet.
base=$((20000 + ($$ % 5000) * 2))
host=$(hostname -s)
cat > "$dir/slurm.conf" <<CONF
ClusterName=exprun-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -c -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 300); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1)
  [ "$state" = idle ] && { echo "SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.1
done
fail "the node did not become idle within 30 s (sinfo: ${state:-nothing})"
