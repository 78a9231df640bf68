#!/usr/bin/env bash
# One incremental sync, tap-fullstory | target-fullstory, safe to run from cron.
#
#   crontab -e
#   15 * * * *  FULLSTORY_SYNC_DIR=/var/lib/fullstory-sync /opt/fullstory-sync/cron.sh >> /var/log/fullstory-sync.log 2>&1
#
# FULLSTORY_SYNC_DIR holds tap.json, target.json and state.json (created by the first run). The API
# keys are best kept out of those files: put TAP_FULLSTORY_API_KEY and TARGET_FULLSTORY_API_KEY in the
# environment (e.g. an env file readable only by the cron user, sourced below).
#
# The state is kept whatever happens to the run. Every state line the target prints is safe: it is
# printed only once every record before it has landed in FullStory or in the dead-letter file. So
# after the run, successful, failed or interrupted, the last complete state line the target printed
# is checked to be a JSON object, written to a temporary file in the same folder and renamed over
# state.json (a rename is atomic: state.json is always whole). If the target printed no state,
# state.json is left as it was. The next run starts from state.json, and a failed run still exits 1.
set -euo pipefail

dir=${FULLSTORY_SYNC_DIR:?set FULLSTORY_SYNC_DIR to the folder holding tap.json and target.json}
tap=${TAP_FULLSTORY_BIN:-tap-fullstory}
target=${TARGET_FULLSTORY_BIN:-target-fullstory}
state="$dir/state.json"
me=$(basename "$0")

# Lines in the same form as the CLIs' own log lines: time, program, message.
say() { echo "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) $me $*"; }

# Secrets from a private env file, if there is one (chmod 600).
if [ -f "$dir/secrets.env" ]; then
  set -a
  # shellcheck disable=SC1091
  . "$dir/secrets.env"
  set +a
fi

# One run at a time: a slow backfill must not overlap with the next cron tick.
exec 9>"$dir/.lock"
if ! flock -n 9; then
  say "previous run still going; skipping this one"
  exit 0
fi

# Temporary files live beside state.json, so the final `mv` is a rename on one file system (atomic).
out=$(mktemp "$dir/.state-lines.XXXXXX")
next=$(mktemp "$dir/.state.XXXXXX")
trap 'rm -f "$out" "$next"' EXIT
# A SIGTERM or SIGINT sent to this script (not to the whole process group) lets the pipeline run to its
# end; the tap and target stop gracefully on their own signals. Either way the state is kept below.
stopped=""
trap 'stopped=yes' TERM INT

state_args=()
if [ -s "$state" ]; then
  state_args=(--state "$state")
fi

say "sync starting${state_args:+ from $state}"
set +e
"$tap" --config "$dir/tap.json" "${state_args[@]}" | "$target" --config "$dir/target.json" > "$out"
codes=("${PIPESTATUS[@]}")
set -e

# The target prints one state value per line as its records become safe; the last one is the newest.
# Only the very last line can be cut short (a target killed mid-write), so the newest complete state
# is the last of the final two lines that is a non-empty JSON object.
if tail -n 2 "$out" | node -e '
  const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.trim() !== "");
  const isState = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0;
  for (const line of lines.reverse()) {
    try {
      if (isState(JSON.parse(line))) { process.stdout.write(`${line}\n`); process.exit(0); }
    } catch {}
  }
  process.exit(1);
' > "$next"; then
  mv -f "$next" "$state"
  kept="state.json now holds the last state the target printed"
else
  kept="the target printed no state; state.json left as it was"
fi

if [ "${codes[0]}" -ne 0 ] || [ "${codes[1]}" -ne 0 ] || [ -n "$stopped" ]; then
  say "sync failed${stopped:+ (stopped)} (tap exit ${codes[0]}, target exit ${codes[1]}); $kept"
  exit 1
fi
say "sync done; $kept: $(cat "$state" 2>/dev/null || echo none)"
