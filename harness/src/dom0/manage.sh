
# ---- Everyday management from xl (appended to scenarios.sh) ----
#
# Each scenario checks a command's effect inside the guest (the domU's
# guest-probe lines, kept in $WORK/NAME.console) and in the toolstack's
# view. Lines for the tests:
#   RXEN-XL-PAUSE state=<xl list state> before=<n> during=<n> after=<n> offset_before=<s> offset_after=<s> destroyed_paused=yes|no
#   RXEN-XL-VCPUS start=<cpus> up=<cpus> down=<cpus> pinned=<cpu of vCPU 0 ...> affinity=<hard affinity of vCPU 0>
#   RXEN-XL-CREDIT name=<n> weight=<w> window=<i> share=<f> (one per guest and window)
#   RXEN-XL-CREDIT-SET weight=<read back> cap=<read back>
#   RXEN-XL-MEMSET free0=<MiB> free_down=<MiB> free_up=<MiB> free_over_max=<MiB> mem0=<kB> mem_down=<kB> mem_up=<kB> mem_over_max=<kB> running=yes|no
#   RXEN-XL-WATCH <command> rc=<rc>  (and the command's output, prefixed)

# watch_lines NAME: how many RXEN-WATCH lines NAME's console has shown.
watch_lines() {
    count_lines '^RXEN-WATCH' "$WORK/$1.console"
}

# watch_field NAME FIELD: FIELD of NAME's latest RXEN-WATCH line.
watch_field() {
    grep '^RXEN-WATCH' "$WORK/$1.console" 2> /dev/null | tail -n 1 |
        sed -n "s/.* $2=\([^ ]*\).*/\1/p"
}

# first_watch_field NAME FIELD: FIELD of NAME's first watch line (since
# its console was last reset: after a restore, its first tick there).
first_watch_field() {
    grep -m 1 '^RXEN-WATCH' "$WORK/$1.console" 2> /dev/null |
        sed -n "s/.* $2=\([^ ]*\).*/\1/p"
}

# guest_offset NAME: the guest's clock (its latest line's up=) minus
# dom0's uptime: constant while both clocks run, whatever pauses.
guest_offset() {
    awk -v g="$(watch_field "$1" up)" -v d="$(uptime_now)" 'BEGIN { printf "%.2f", g - d }'
}

# xl_state NAME: the State column of `xl list NAME` with its dashes
# dropped (r, b, p, ...); "-" for a domain with none of the flags set,
# which is one whose vCPUs wait for a CPU (runnable, neither running nor
# all blocked, as Xen reports it too); nothing for no such domain.
xl_state() {
    xlr list "$1" 2> /dev/null | awk -v n="$1" '$1 == n { gsub(/-/, "", $5); print ($5 == "" ? "-" : $5) }'
}

# wait_watch NAME FIELD VALUE SECS: until NAME's latest watch line shows
# FIELD=VALUE (yes), or SECS seconds (no).
wait_watch() {
    poll "$4" watch_shows "$1" "$2" "$3"
}

# watch_shows NAME FIELD VALUE: whether NAME's latest watch line has it.
watch_shows() {
    [ "$(watch_field "$1" "$2")" = "$3" ]
}

# pause: a domU counting once a second is paused for 8 s: no count comes
# meanwhile and xl list says p; unpaused, it counts on with its clock right
# (its monotonic clock against dom0's is as before). Then it is paused
# again and destroyed while paused.
scenario_pause() {
    local name=domu-pause state before during after ob oa gone rc=0
    start_domu "$name" watch=120 || return 1
    [ "$(wait_marker "$name")" = yes ] || return 1
    sleep 4
    ob=$(guest_offset "$name")
    show "xl-pause $name" xlr pause "$name" || rc=1
    # A line already on its way to xenconsoled may still come.
    sleep 2
    state=$(xl_state "$name")
    before=$(watch_lines "$name")
    sleep 8
    during=$(watch_lines "$name")
    show "xl-unpause $name" xlr unpause "$name" || rc=1
    sleep 5
    after=$(watch_lines "$name")
    oa=$(guest_offset "$name")
    show "xl-pause $name" xlr pause "$name" || rc=1
    show "xl-destroy $name" xlr destroy "$name" || rc=1
    gone=$(wait_gone "$name")
    wait
    echo "RXEN-XL-PAUSE state=$state before=$before during=$during after=$after offset_before=$ob offset_after=$oa destroyed_paused=$gone"
    [ "$gone" = yes ] || rc=1
    return $rc
}

# vcpus: a domU with vcpus = 1 and maxvcpus = 2: xl vcpu-set brings its
# second CPU online and takes it away again (the guest's online CPUs);
# xl vcpu-pin pins vCPU 0 to CPU 1 and xl vcpu-list shows it there.
scenario_vcpus() {
    local name=domu-vcpus start up down cpus="" aff i rc=0
    local DOMU_SETTINGS="maxvcpus = 2"
    start_domu "$name" watch=120 || return 1
    [ "$(wait_marker "$name")" = yes ] || return 1
    sleep 2
    start=$(watch_field "$name" cpus)
    show "xl-vcpu-set $name 2" xlr vcpu-set "$name" 2 || rc=1
    wait_watch "$name" cpus 2 30 > /dev/null
    up=$(watch_field "$name" cpus)
    show "xl-vcpu-list" xlr vcpu-list "$name"
    show "xl-vcpu-pin $name 0 1" xlr vcpu-pin "$name" 0 1 || rc=1
    show "xl-vcpu-pin $name 1 0" xlr vcpu-pin "$name" 1 0 || rc=1
    sleep 2
    # Name ID VCPU CPU State Time(s) Affinity (Hard / Soft)
    for i in 1 2 3 4 5; do
        cpus="$cpus$(xlr vcpu-list "$name" 2> /dev/null | awk -v n="$name" '$1 == n && $3 == 0 { print $4 }'),"
        sleep 1
    done
    aff=$(xlr vcpu-list "$name" 2> /dev/null | awk -v n="$name" '$1 == n && $3 == 0 { print $7 }')
    show "xl-vcpu-list" xlr vcpu-list "$name"
    show "xl-vcpu-set $name 1" xlr vcpu-set "$name" 1 || rc=1
    wait_watch "$name" cpus 1 30 > /dev/null
    down=$(watch_field "$name" cpus)
    destroy_domu "$name" || rc=1
    echo "RXEN-XL-VCPUS start=$start up=$up down=$down pinned=${cpus%,} affinity=$aff"
    return $rc
}

# credit: three CPU-bound domUs pinned to CPU 1 with cpu_weight 256, 512
# and 1024 measure their share over two 15 s windows; between them xl
# sched-credit gives the first weight 1024. A fourth, on CPU 0 with
# cap = 25, measures its share too.
scenario_credit() {
    local epoch names="" name w line rc=0 DOMU_MEMORY=160 DOMU_SETTINGS
    epoch=$(( $(date +%s) + 75 ))
    for w in 256 512 1024; do
        name="domu-w$w"
        names="$names $name"
        DOMU_SETTINGS="cpu_weight = $w
cpus = \"1\""
        start_domu "$name" "share=$epoch,15,2" || rc=1
    done
    DOMU_SETTINGS='cap = 25
cpus = "0"'
    start_domu domu-capped "share=$epoch,15,2" || rc=1
    show "xl-sched-credit" xlr sched-credit
    # xentop's view of the first window: its second sample's CPU(%) is
    # over 3 s inside it.
    while [ "$(date +%s)" -lt $((epoch + 4)) ]; do
        sleep 1
    done
    show "xentop-credit" xentop -b -d 3 -i 2
    # Into the gap between the windows.
    while [ "$(date +%s)" -lt $((epoch + 17)) ]; do
        sleep 1
    done
    show "xl-sched-credit -d domu-w256 -w 1024" xlr sched-credit -d domu-w256 -w 1024 || rc=1
    # Name ID Weight Cap
    line=$(xlr sched-credit -d domu-w256 2> /dev/null | awk '$1 == "domu-w256" { print "weight=" $3 " cap=" $4 }')
    echo "RXEN-XL-CREDIT-SET ${line:-weight=none cap=none}"
    show "xl-sched-credit -s" xlr sched-credit -s
    # Idle until the second window is over: wait_gone's xl once a second
    # would run on the CPU being measured (a CI run saw 1.76:1:1.76 for
    # 2:1:2 with it).
    while [ "$(date +%s)" -lt $((epoch + 36)) ]; do
        sleep 1
    done
    for name in $names domu-capped; do
        [ "$(wait_gone "$name" 120)" = yes ] || rc=1
    done
    wait
    for name in $names domu-capped; do
        grep '^RXEN-SHARE' "$WORK/$name.console" 2> /dev/null | while read -r line; do
            echo "RXEN-XL-CREDIT name=$name ${line#RXEN-SHARE }"
        done
        # Both windows measured, or the scenario failed (a guest that died
        # of the emulator fault makes it run again in a fresh boot).
        [ "$(grep -c '^RXEN-SHARE' "$WORK/$name.console" 2> /dev/null)" = 2 ] || rc=1
    done
    return $rc
}

# memset: xl mem-set takes a 256 MiB domU down to 160 MiB and back: its
# balloon driver gives the pages back (MemTotal falls) and takes them
# again; xl info's free_memory moves by as much. Then xl mem-max holds it
# at 256 MiB and a mem-set to 320 MiB gives it nothing.
scenario_memset() {
    local name=domu-memset f0 fd fu fm m0 md mu mm running=no rc=0
    start_domu "$name" watch=150 || return 1
    [ "$(wait_marker "$name")" = yes ] || return 1
    sleep 3
    f0=$(xl_info_field free_memory)
    m0=$(watch_field "$name" memtotal_kib)
    show "xl-mem-set $name 160m" xlr mem-set "$name" 160m || rc=1
    settle_memory "$name" "$m0" down
    fd=$(xl_info_field free_memory)
    md=$(watch_field "$name" memtotal_kib)
    show "xl-list" xlr list "$name"
    show "xentop-memset" xentop -b -i 1
    show "xl-mem-set $name 256m" xlr mem-set "$name" 256m || rc=1
    settle_memory "$name" "$md" up
    fu=$(xl_info_field free_memory)
    mu=$(watch_field "$name" memtotal_kib)
    show "xl-list" xlr list "$name"
    # Its maximum down to what it has: asking for more then gets it
    # nothing (xl refuses, or the guest's balloon asks rxen in vain).
    show "xl-mem-max $name 256m" xlr mem-max "$name" 256m || rc=1
    show "xl-mem-set $name 320m" xlr mem-set "$name" 320m
    sleep 8
    fm=$(xl_info_field free_memory)
    mm=$(watch_field "$name" memtotal_kib)
    local n0
    n0=$(watch_lines "$name")
    sleep 3
    [ "$(watch_lines "$name")" -gt "$n0" ] && running=yes
    destroy_domu "$name" || rc=1
    echo "RXEN-XL-MEMSET free0=$f0 free_down=$fd free_up=$fu free_over_max=$fm mem0=$m0 mem_down=$md mem_up=$mu mem_over_max=$mm running=$running"
    return $rc
}

# maxmem: a domU with memory = 160 and maxmem = 256, which libxl builds
# with populate-on-demand (its memory map has 256 MiB of RAM, 160 MiB
# backed; its balloon driver gives the rest back at boot): xl list and the
# guest's MemTotal show 160 MiB, and free memory falls by that, not 256;
# xl mem-set 224m then gives the guest 64 MiB more (no hotplug: the frames
# were in its map all along), xl mem-set 160m takes them back, and
# destroying it returns every MiB.
#   RXEN-XL-MAXMEM free0=<MiB> free_created=<MiB> free_up=<MiB> free_down=<MiB> free_gone=<MiB> mem_created=<kB> mem_up=<kB> mem_down=<kB> list=<MiB> max_memkb=<KiB> running=yes|no
scenario_maxmem() {
    local name=domu-maxmem f0 fc fu fd fg mc mu md list maxkb running=no n0 rc=0
    local DOMU_MEMORY=160 DOMU_SETTINGS="maxmem = 256"
    f0=$(xl_info_field free_memory)
    start_domu "$name" watch=150 || return 1
    [ "$(wait_marker "$name")" = yes ] || return 1
    # Until its balloon driver has given back what it may not keep.
    settle_memory "$name" 999999999 down
    fc=$(xl_info_field free_memory)
    mc=$(watch_field "$name" memtotal_kib)
    list=$(xlr list "$name" 2> /dev/null | awk -v n="$name" '$1 == n { print $3 }')
    maxkb=$(xlr list -l "$name" 2> /dev/null | sed -n 's/.*"max_memkb": \([0-9]*\).*/\1/p' | head -n 1)
    show "xl-list" xlr list "$name"
    show "xl-mem-set $name 224m" xlr mem-set "$name" 224m || rc=1
    settle_memory "$name" "$mc" up
    fu=$(xl_info_field free_memory)
    mu=$(watch_field "$name" memtotal_kib)
    show "xl-mem-set $name 160m" xlr mem-set "$name" 160m || rc=1
    settle_memory "$name" "$mu" down
    fd=$(xl_info_field free_memory)
    md=$(watch_field "$name" memtotal_kib)
    n0=$(watch_lines "$name")
    sleep 3
    [ "$(watch_lines "$name")" -gt "$n0" ] && running=yes
    destroy_domu "$name" || rc=1
    fg=$(xl_info_field free_memory)
    echo "RXEN-XL-MAXMEM free0=$f0 free_created=$fc free_up=$fu free_down=$fd free_gone=$fg mem_created=$mc mem_up=$mu mem_down=$md list=$list max_memkb=$maxkb running=$running"
    return $rc
}

# settle_memory NAME FROM down|up: until NAME's MemTotal has moved from
# FROM that way and stayed put for 3 s (60 s at most).
settle_memory() {
    local t=0 last="" same=0 now
    while [ "$t" -lt 60 ]; do
        now=$(watch_field "$1" memtotal_kib)
        if [ "$now" = "$last" ] && { { [ "$3" = down ] && [ "$now" -lt "$2" ]; } ||
            { [ "$3" = up ] && [ "$now" -gt "$2" ]; }; }; then
            same=$((same + 1))
            [ "$same" -ge 3 ] && return 0
        else
            same=0
        fi
        last="$now"
        t=$((t + 1))
        sleep 1
    done
    return 1
}

# watch: the read-only commands an administrator types, with a domU
# running: each must succeed (RXEN-XL-WATCH ... rc=0) and its output is
# kept in the log.
scenario_watch() {
    local name=domu-watch id rc=0
    start_domu "$name" watch=90 || return 1
    [ "$(wait_marker "$name")" = yes ] || return 1
    id=$(xlr domid "$name" 2> /dev/null)
    watch_cmd "list -l" xlr list -l "$name" || rc=1
    watch_cmd "domid" xlr domid "$name" || rc=1
    watch_cmd "domname" xlr domname "$id" || rc=1
    watch_cmd "uptime" xlr uptime "$name" || rc=1
    watch_cmd "debug-keys" xlr debug-keys h || rc=1
    watch_cmd "dmesg" xlr dmesg || rc=1
    watch_cmd "dmesg -c" xlr dmesg -c || rc=1
    watch_cmd "xentop" xentop -b -i 2 -d 1 || rc=1
    # xl top is xentop on a terminal: 4 s of its screen, then q.
    watch_cmd "top" /usr/bin/guest-probe tty 4 xl top || rc=1
    xlr destroy "$name" > /dev/null 2>&1
    wait_gone "$name" > /dev/null
    wait
    return $rc
}

# watch_cmd WHAT CMD...: CMD's output prefixed "xl-WHAT: ", then
# RXEN-XL-WATCH WHAT rc=<status> lines=<output lines>.
watch_cmd() {
    local what="$1" out rc
    shift
    out=$(mktemp -p "$WORK")
    "$@" > "$out" 2>&1 < /dev/null
    rc=$?
    prefix "xl-$what: " < "$out"
    echo "RXEN-XL-WATCH $(echo "$what" | tr ' ' '_') rc=$rc lines=$(wc -l < "$out")"
    rm -f "$out"
    return $rc
}

# lifecycle: xl destroy of a domU still booting; on_crash = "preserve"
# (the crashed domain stays, xl list shows it crashed, xl destroy ends it);
# xl reboot of a running domU with on_reboot = "restart" (it runs its
# reboot path and comes back under a new domain id, reaching its marker
# again).
#   RXEN-XL-LIFECYCLE early_gone=yes|no crashed_state=<xl list state, dashes dropped> crashed_gone=yes|no
#   RXEN-XL-REBOOT first=<domid> second=<domid> marker=yes|no
scenario_lifecycle() {
    local rc=0 early crashed state t=0 cgone
    # Destroyed in its first second, mid-boot.
    start_domu domu-early watch=60 || rc=1
    show "xl-destroy domu-early" xlr destroy domu-early || rc=1
    early=$(wait_gone domu-early)
    local DOMU_ON_CRASH=preserve
    start_domu domu-crash crash || rc=1
    # xl list's state: "s" (shut down) and "c" (crashed).
    state=$(xl_state domu-crash)
    while [ "${state#*c}" = "$state" ] && [ "$t" -lt 120 ]; do
        sleep 1
        t=$((t + 1))
        state=$(xl_state domu-crash)
    done
    show "xl-list" xlr list
    show "xl-destroy domu-crash" xlr destroy domu-crash || rc=1
    cgone=$(wait_gone domu-crash)
    DOMU_ON_CRASH=destroy
    echo "RXEN-XL-LIFECYCLE early_gone=$early crashed_state=${state:-none} crashed_gone=$cgone"
    [ "$early" = yes ] && [ "${state#*c}" != "$state" ] && [ "$cgone" = yes ] || rc=1
    reboot_domu || rc=1
    wait
    return $rc
}

# reboot_domu: the xl reboot part of lifecycle.
reboot_domu() {
    local name=domu-reboot first second="" t=0 m=no
    start_domu "$name" watch=90 || return 1
    [ "$(wait_marker "$name")" = yes ] || return 1
    first=$(marker_domid "$name")
    show "xl-reboot $name" xlr reboot "$name" || return 1
    # xl's monitor of the domain (left by xl create) builds it again.
    while [ "$t" -lt 120 ]; do
        second=$(xlr domid "$name" 2> /dev/null)
        [ -n "$second" ] && [ "$second" != "$first" ] && break
        t=$((t + 1))
        sleep 1
    done
    # Its console, again, under another label (the first one's files stay).
    domu_reset "$name-again"
    { xl console "$name" < /dev/null 2> /dev/null | console_filter "$name-again"; touch "$WORK/$name-again.done"; } &
    [ "$(wait_marker "$name-again" 120)" = yes ] && m=yes
    show "xl-destroy $name" xlr destroy "$name"
    wait_gone "$name" > /dev/null
    echo "RXEN-XL-REBOOT first=$first second=${second:-none} marker=$m second_marker=$(marker_domid "$name-again")"
    [ "$m" = yes ] && [ "$second" != "$first" ]
}

# ---- Hostile input from the control domain ----

# churn: short-lived domains until $WORK/churn.stop: each created paused
# and destroyed 2 s later, so that the fuzzer finds domains being built
# and dying among the ones it may hit. Leaves the count in churn.count.
churn() {
    local i=0
    rm -f "$WORK/churn.stop"
    while [ ! -e "$WORK/churn.stop" ]; do
        bounded 60 "xl create -p churn-$i" xl create -p "$(domu_cfg "churn-$i" marker "" 64)" > /dev/null 2>&1 < /dev/null
        sleep 2
        bounded 60 "xl destroy churn-$i" xl destroy "churn-$i" > /dev/null 2>&1 < /dev/null
        i=$((i + 1))
    done
    echo "$i" > "$WORK/churn.count"
}

# churn_left: how many churn domains xl still lists.
churn_left() {
    xlr list 2> /dev/null | grep -c '^churn-'
}

# checksum_field NAME FIELD: FIELD of NAME's latest checksum progress line.
checksum_field() {
    grep '^RXEN-CHECKSUM progress' "$WORK/$1.console" 2> /dev/null | tail -n 1 |
        sed -n "s/.* $2=\([^ ]*\).*/\1/p"
}

# checksum_after NAME ROUNDS: whether NAME has checked more than ROUNDS
# rounds (its latest progress line).
checksum_after() {
    [ "$(checksum_field "$1" rounds)" -gt "$2" ] 2> /dev/null
}

# fuzz SECONDS[:CALLS[:DOMU_CALLS]]: guest-probe fuzz-control in dom0 for
# SECONDS or CALLS calls (default 10^6), against every domain: a victim
# checksums 64 MiB of its memory throughout, a bystander counts every
# second, short-lived domains come and go (churn). With DOMU_CALLS, a third
# domU runs the guest-side fuzzer (that many calls, SECONDS at most) at the
# same time. After
# the run: the victim has checked another full round with no mismatch, the
# bystander counted on, both still run, and once every domain is gone the
# free memory is what it was.
#   RXEN-XL-FUZZ victim=ok|CORRUPTED|stalled mismatches=<n> rounds_before=<n> rounds_after=<n> bystander_before=<n> bystander_after=<n> running=yes|no churned=<n> left=<n> free0=<MiB> free1=<MiB>
scenario_fuzz() {
    local secs calls ucalls rest victim=domu-victim by=domu-bystander fz=domu-fuzzer
    local r0 r1 b0 b1 bad verdict running=yes churned left free0 free1 n names rc=0
    local DOMU_MEMORY=160 DOMU_TIMEOUT
    # (rxen.dom0= separates scenarios with commas.)
    secs=${1%%:*}
    rest=${1#"$secs"}
    rest=${rest#:}
    calls=${rest%%:*}
    ucalls=${rest#"$calls"}
    ucalls=${ucalls#:}
    calls=${calls:-1000000}
    ucalls=${ucalls:-0}
    DOMU_TIMEOUT=$((secs + 900))
    free0=$(xl_info_field free_memory)
    start_domu "$victim" "checksum=$((secs + 900))" || return 1
    start_domu "$by" "watch=$((secs + 900))" || return 1
    names="$victim $by"
    if [ "$ucalls" -gt 0 ]; then
        start_domu "$fz" "fuzz=7,$secs,$ucalls" || return 1
        names="$names $fz"
    fi
    for n in $names; do
        [ "$(wait_marker "$n")" = yes ] || rc=1
    done
    [ "$rc" = 0 ] || return 1
    poll 60 checksum_after "$victim" 0 > /dev/null
    r0=$(checksum_field "$victim" rounds)
    b0=$(watch_lines "$by")
    churn &
    /usr/bin/guest-probe fuzz-control --seconds "$secs" --calls "$calls" --seed "$(date +%s)" || rc=1
    touch "$WORK/churn.stop"
    wait_churn
    b1=$(watch_lines "$by")
    for n in "$victim" "$by"; do
        domain_exists "$n" || running=no
    done
    # One more progress line: a whole round checked after the last call.
    poll 60 checksum_after "$victim" "$(( $(checksum_field "$victim" rounds) + 1 ))" > /dev/null
    r1=$(checksum_field "$victim" rounds)
    bad=$(grep -c '^RXEN-CHECKSUM round=' "$WORK/$victim.console")
    if [ "$bad" != 0 ]; then
        verdict=CORRUPTED
    elif [ "${r1:-0}" -gt "${r0:-0}" ]; then
        verdict=ok
    else
        verdict=stalled
    fi
    if [ "$ucalls" -gt 0 ]; then
        poll $((secs + 300)) fuzzer_finished "$fz" > /dev/null
        # Its domain died (the emulator fault can kill it): the scenario
        # failed, and the tests run it again in a fresh boot.
        if ! grep -q '^RXEN-FUZZ-DONE' "$WORK/$fz.console" 2> /dev/null; then
            say "RXEN-FUZZ-LOST $fz ended without its summary"
            rc=1
        fi
    fi
    for n in $(xlr list 2> /dev/null | awk '$1 ~ /^(churn-|domu-)/ { print $1 }'); do
        xlr destroy "$n" > /dev/null 2>&1
    done
    for n in "$victim" "$by" "$fz"; do
        wait_gone "$n" > /dev/null
    done
    wait
    left=$(churn_left)
    churned=$(cat "$WORK/churn.count" 2> /dev/null || echo 0)
    free1=$(xl_info_field free_memory)
    echo "RXEN-XL-FUZZ victim=$verdict mismatches=$bad rounds_before=$r0 rounds_after=$r1 bystander_before=$b0 bystander_after=$b1 running=$running churned=$churned left=$left free0=$free0 free1=$free1"
    [ "$verdict" = ok ] && [ "$running" = yes ] || rc=1
    return $rc
}

# fuzzer_finished NAME: NAME's guest fuzzer is done, or NAME is gone (the
# emulator fault, docs/qemu-svm.md, can kill it).
fuzzer_finished() {
    grep -q '^RXEN-FUZZ-DONE' "$WORK/$1.console" 2> /dev/null || [ -e "$WORK/$1.done" ]
}

# wait_churn: until churn has stopped (it finishes its create/destroy).
wait_churn() {
    poll 150 test -e "$WORK/churn.count" > /dev/null
}
