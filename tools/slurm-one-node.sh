#!/usr/bin/env bash
# A one-node Slurm cluster (Debian's slurm-wlm and munge) for the cluster tests: this machine is the only node,
# all state lives in DIR, no systemd. Needs root (slurmd runs jobs as their submitter).
#   tools/slurm-one-node.sh start DIR   # writes DIR/slurm.conf, starts munged (unless one answers), slurmctld, slurmd
#   tools/slurm-one-node.sh stop DIR    # shuts down what start started, by pid, and waits for it to exit
# Every command against the cluster needs SLURM_CONF=DIR/slurm.conf. Findings behind the settings:
# ../shared/docs/slurm-one-node.md (cred_expire, kill_invalid_depend, state files in DIR).
set -euo pipefail
action="${1:-}"
dir="${2:-}"
[[ ( "$action" == start || "$action" == stop ) && -n "$dir" ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
export SLURM_CONF="$dir/slurm.conf"

# Close the descriptors this script inherited beyond stdio (a caller's pipes, such as `swift test | tee` in CI or
# the ones Foundation's Process watches): the daemons started below would hold them open for as long as they run,
# and the caller would wait for their end forever. 255 is bash's own handle on this script.
for fd in $(ls /proc/$$/fd); do
  if [[ "$fd" -gt 2 && "$fd" -ne 255 ]]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

fail() { echo "error: $*" >&2; exit 1; }

# Waits until a pid has exited (a zombie counts as exited: PID 1 may reap it late).
wait_gone() {
  local pid="$1" i
  for i in $(seq 1 100); do
    [[ -r "/proc/$pid/status" ]] || return 0
    grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

stop_pid_file() {
  local file="$1" pid
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  if [[ -n "$pid" ]] && ! wait_gone "$pid"; then
    kill "$pid" 2>/dev/null || true
    wait_gone "$pid" || { kill -9 "$pid" 2>/dev/null || true; wait_gone "$pid" || true; }
  fi
  rm -f "$file"
}

if [[ "$action" == stop ]]; then
  [[ -f "$SLURM_CONF" ]] && timeout 10 scontrol shutdown >/dev/null 2>&1 || true
  stop_pid_file "$dir/slurmd.pid"
  stop_pid_file "$dir/slurmctld.pid"
  if [[ -f "$dir/munged.started" ]]; then
    stop_pid_file /run/munge/munged.pid
    rm -f "$dir/munged.started"
  fi
  exit 0
fi

[[ "$(id -u)" -eq 0 ]] || fail "the one-node Slurm cluster needs root (slurmd runs as root and runs jobs as their user)"
for tool in slurmctld slurmd sbatch scontrol munged munge unmunge; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin" command -v "$tool" >/dev/null 2>&1 \
    || fail "$tool is not installed: apt-get install slurm-wlm munge (bash .ci/setup does it)"
done
export PATH="$PATH:/usr/sbin"

# munge: reuse a running daemon; otherwise start one as the munge user (as root it refuses its log folder).
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  if [[ ! -s /etc/munge/munge.key ]]; then
    (mungekey --create 2>/dev/null || create-munge-key -f) >/dev/null
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 0755 /run/munge
  # Daemons get /dev/null for stdio: an inherited pipe would keep the caller waiting for its end forever.
  runuser -u munge -- /usr/sbin/munged </dev/null >/dev/null 2>&1
  touch "$dir/munged.started"
  for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || fail "munged started but does not answer (see /var/log/munge/munged.log)"
fi

host="$(hostname -s)"
cpus="$(nproc)"
memory=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
mkdir -p "$dir/state" "$dir/spool"
cat > "$SLURM_CONF" <<CONF
ClusterName=ltmbench
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=cred_expire=10
DependencyParameters=kill_invalid_depend
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=${LTM_BENCH_SLURMCTLD_PORT:-6817}
SlurmdPort=${LTM_BENCH_SLURMD_PORT:-6818}
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld </dev/null >/dev/null 2>&1 || fail "slurmctld did not start (see $dir/slurmctld.log)"
slurmd </dev/null >/dev/null 2>&1 || fail "slurmd did not start (see $dir/slurmd.log)"
for _ in $(seq 1 100); do
  state="$(sinfo -h -o %T 2>/dev/null || true)"
  [[ "$state" == idle* ]] && { echo "slurm: node $host ($cpus CPUs) idle; SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.2
done
fail "the node did not become idle within 20 s (sinfo: ${state:-no answer}; see $dir/slurmctld.log, $dir/slurmd.log)"
