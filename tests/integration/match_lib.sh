# match_lib.sh - what the `accord match --follow` tests share.  Sourced after lib.sh.

# wait_for DESCRIPTION CMD...: up to 20 s for CMD to succeed (a followed file is read within
# 100 ms of growing; the store is looked at every second)
wait_for() {
  local d=$1 i=0; shift
  while ! "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -ge 200 ]; then bad "$d (timed out)"; return 1; fi
    sleep 0.1
  done
  ok
}
