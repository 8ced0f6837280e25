#!/usr/bin/env bash
# usage: bench/ingestion-cpu.sh <checkout> <label> [extra load-generator args]   (PRE=40 for a 40 s pre-pass first, TRACE=1 for a dotnet-trace of the server)
# Release server on a fresh durable embedded cluster, LoadGenerator, CPU per event of server and PostgreSQL (from /proc).
set -u
wt=$1; label=$2; shift 2
dir=/tmp/esj-bench-$label; rm -rf $dir; mkdir -p $dir; chmod 777 $dir
port=$((5100 + RANDOM % 500))
cd $wt
for p in src/Api bench/EventSourcedJourneys.LoadGenerator; do dotnet build -c Release $p -v q 2>&1 | grep -E " error |rror\(s\)" | sort -u; done
Journeys__Database__DataDirectory=$dir/postgres Journeys__DemoWorkspace__KeysFile=$dir/keys.env \
  Logging__LogLevel__Default=Warning dotnet run -c Release --no-build --project src/Api -- --urls http://127.0.0.1:$port > $dir/server.log 2>&1 &
for i in $(seq 1 120); do [ -f $dir/keys.env ] && curl -s -o /dev/null http://127.0.0.1:$port/health && break; sleep 1; done
server=$(pgrep -f "EventSourcedJourneys.Api.*--urls http://127.0.0.1:$port" | head -1)
pgmain=$(head -1 $dir/postgres/postmaster.pid)
cpu() { local t=0; for p in "$@"; do for c in $p $(pgrep -P $p); do [ -r /proc/$c/stat ] && t=$((t + $(awk '{print $14+$15}' /proc/$c/stat))); done; done; echo $t; }
if [ -n "${PRE:-}" ]; then dotnet run -c Release --no-build --project bench/EventSourcedJourneys.LoadGenerator -- --url http://127.0.0.1:$port \
  --keys-file $dir/keys.env --batch 100 --concurrency 4 --seconds $PRE --warmup 2 --contacts 10000 "$@" | tail -2; fi
q() { psql "host=127.0.0.1 port=$(sed -n 4p $dir/postgres/postmaster.pid) user=journeys password=$(cat $dir/postgres.password) dbname=journeys" -Atc "$1" 2>/dev/null; }
e0=$(q "select count(*) from journeys.mt_events where type = 'contact_tracked'"); e0=${e0:-0}
[ -n "${TRACE:-}" ] && (~/.dotnet/tools/dotnet-trace collect -p $server --duration 00:00:00:30 --format Speedscope -o $dir/trace.nettrace > $dir/trace.log 2>&1 &)
s0=$(cpu $server); p0=$(cpu $pgmain); t0=$(date +%s.%N)
dotnet run -c Release --no-build --project bench/EventSourcedJourneys.LoadGenerator -- --url http://127.0.0.1:$port \
  --keys-file $dir/keys.env --batch 100 --concurrency 4 --seconds 20 --warmup 5 --contacts 10000 "$@" | tee $dir/loadgen.log
s1=$(cpu $server); p1=$(cpu $pgmain); t1=$(date +%s.%N)
events=$(( $(q "select count(*) from journeys.mt_events where type = 'contact_tracked'") - e0 ))
echo "label=$label cpu_ms_per_call=$(echo "scale=3; ($s1-$s0)*10/$events" | bc)+$(echo "scale=3; ($p1-$p0)*10/$events" | bc) load=$(cut -d' ' -f1-3 /proc/loadavg) events_in_store=$events server_cpu_s=$(( (s1-s0) ))/100 pg_cpu_s=$(( (p1-p0) ))/100 wall=$(echo "$t1-$t0" | bc)"
kill -TERM $server; sleep 8
