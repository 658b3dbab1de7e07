#!/usr/bin/env bash
# Runs `.ci/run` N times in a row, each in a fresh clone of a commit, beside a
# CPU hog, and stops at the first red run: how a flaky test shows itself
# before CI meets it. Usage: tools/ci-soak.sh [runs=10] [commit=HEAD] [hog-percent=70]
set -uo pipefail
runs=${1:-10}
commit=$(git rev-parse "${2:-HEAD}")
hog=${3:-70}
repo=$(git rev-parse --show-toplevel)
work=$(mktemp -d /tmp/ci-soak.XXXXXX)
log="$work/soak.log"

# A busy loop that sleeps (100 - hog)% of every 100 ms, on one core.
node -e "
  const busy = ${hog};
  setInterval(() => { const end = Date.now() + busy; while (Date.now() < end); }, 100);
" &
hog_pid=$!
trap 'kill $hog_pid 2>/dev/null' EXIT

echo "soak of ${commit:0:10}: $runs runs beside a ${hog}% CPU hog, logs in $work" | tee -a "$log"
for run in $(seq 1 "$runs"); do
  clone="$work/run-$run"
  git clone -q "$repo" "$clone" && git -C "$clone" checkout -q "$commit"
  start=$(date +%s)
  (cd "$clone" && bash .ci/run) > "$clone.out" 2>&1
  status=$?
  summary=$(grep -E '^tests: ' "$clone.out" | tail -1)
  echo "run $run: exit $status, $summary, $(( $(date +%s) - start )) s" | tee -a "$log"
  if (( status != 0 )); then
    grep -E '^FAILED ' -A30 "$clone.out" | head -80 | tee -a "$log"
    exit 1
  fi
  rm -rf "$clone"
done
echo "all $runs runs green" | tee -a "$log"
