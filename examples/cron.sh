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
# The state file is only ever replaced whole: the target's last state line goes to a temporary file
# in the same folder, which is checked to be a JSON object and then renamed over state.json, and only
# when both programs succeeded. A failed or killed run leaves the previous state.json untouched, so the
# next run starts again from the last good bookmark.
set -euo pipefail

dir=${FULLSTORY_SYNC_DIR:?set FULLSTORY_SYNC_DIR to the folder holding tap.json and target.json}
tap=${TAP_FULLSTORY_BIN:-tap-fullstory}
target=${TARGET_FULLSTORY_BIN:-target-fullstory}
state="$dir/state.json"

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
  echo "$(date -u +%FT%TZ) previous run still going; skipping this one"
  exit 0
fi

# Temporary files live beside state.json, so the final `mv` is a rename on one file system (atomic).
out=$(mktemp "$dir/.state-lines.XXXXXX")
next=$(mktemp "$dir/.state.XXXXXX")
trap 'rm -f "$out" "$next"' EXIT

state_args=()
if [ -s "$state" ]; then
  state_args=(--state "$state")
fi

echo "$(date -u +%FT%TZ) sync starting${state_args:+ from $state}"
set +e
"$tap" --config "$dir/tap.json" "${state_args[@]}" | "$target" --config "$dir/target.json" > "$out"
codes=("${PIPESTATUS[@]}")
set -e

if [ "${codes[0]}" -ne 0 ] || [ "${codes[1]}" -ne 0 ]; then
  echo "$(date -u +%FT%TZ) sync failed (tap exit ${codes[0]}, target exit ${codes[1]}); state.json left as it was"
  exit 1
fi

# The target prints one state value per line as its records become safe; the last one is the newest.
tail -n 1 "$out" > "$next"
if ! node -e '
  const text = require("fs").readFileSync(process.argv[1], "utf8");
  const value = JSON.parse(text);
  if (value === null || typeof value !== "object" || Array.isArray(value) || Object.keys(value).length === 0) process.exit(1);
' "$next"; then
  echo "$(date -u +%FT%TZ) the target printed no usable state; state.json left as it was"
  exit 1
fi

mv -f "$next" "$state"
echo "$(date -u +%FT%TZ) sync done; state: $(cat "$state")"
