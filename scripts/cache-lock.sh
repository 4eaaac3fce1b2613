# Sourced by the install-* scripts: `with_lock NAME COMMAND...` runs COMMAND holding an exclusive lock on
# the cache folder's NAME.lock, so that two runs at once (the suite's two workers, two CI jobs on one
# runner, the suite beside the versions matrix) neither fill one cache folder together nor remove what the
# other is using. Each script checks again, under the lock, whether its cache is already complete.
with_lock() {
  local lock="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-clevercloud-tcp/$1.lock"
  shift
  mkdir -p "$(dirname "$lock")"
  if command -v flock >/dev/null; then
    ( flock 9 || exit 1; "$@" ) 9>"$lock"
  else  # macOS has no flock(1): one run at a time there
    "$@"
  fi
}
