# rxen dom0 scenarios (busybox sh), sourced by /init: see harness/src/dom0/mod.rs.
#
# Each scenario is a function scenario_NAME, given the ARG of
# rxen.dom0=...,NAME=ARG,...; its status is the rc= of RXEN-SCENARIO-END.
# Add one by writing a function. Every domU is a PVH guest of the Debian cloud
# kernel and the rxen test initramfs, whose /init prints RXEN-MARKER domid=N
# and then does ACTION (rxen.test=ACTION: marker = power off at once,
# sleep=S, time, ...; see harness/src/initramfs.rs).
#
# Lines for the tests (one each):
#   RXEN-XL-INFO total_memory=<MiB> free_memory=<MiB> nr_cpus=<n> xen_version=<v>
#   RXEN-XL-LIST-DOM0 mem=<MiB> vcpus=<n>
#   RXEN-DOMU-CONSOLE <name>: <a line of the domU's console, through xl console>
#   RXEN-XL-CREATE name= domid= marker=yes|no create_to_marker=<s> free_before= free_after= gone=yes|no
#   RXEN-XL-TWO markers=yes|no together=yes|no
#   RXEN-XL-ROUND i= domids=a,b,c free=<MiB> markers=<n> gone=yes|no
#   RXEN-XL-ERROR case=<case> rc=<rc> msg=<first error line of xl's stderr>
#   RXEN-XL-ERROR-AFTER marker=yes|no
#   RXEN-XL-DESTROY gone=yes|no ...      RXEN-XL-SHUTDOWN gone=yes|no ...
#   RXEN-XL-DEMO markers=yes|no gone=yes|no
#   RXEN-DOM0-CRASH <what> rc=<rc> try=<n>: <first line of stderr>
#     (a dom0 program crashed rather than answered, and was run again:
#     nested under QEMU, dom0's processes now and then die of corrupted
#     memory, see docs/qemu-svm.md; every xl call is retried twice)
#   RXEN-XL-RETRY <what> rc=<rc> try=<n>: <first line of xl's complaint>
#     (xl create of a good configuration failed and no domain is there:
#     tried again, twice at most)

DOMU_KERNEL=/var/lib/rxen/domu/vmlinuz
DOMU_RAMDISK=/var/lib/rxen/domu/initrd.cpio
# A domU still there this long after its xl create is destroyed.
DOMU_TIMEOUT=300
# How long to wait for a domU's marker, and for a domain to go.
MARKER_TIMEOUT=240
GONE_TIMEOUT=60
WORK=/run/rxen
CR=$(printf '\r')
mkdir -p "$WORK"

uptime_now() {
    local up _idle
    read -r up _idle < /proc/uptime
    echo "$up"
}

# elapsed FROM TO (seconds, two decimals)
elapsed() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# prefix TEXT: stdin's lines with TEXT in front (carriage returns dropped).
prefix() {
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        echo "$1${line%"$CR"}"
    done
}

# show LABEL CMD...: runs CMD, prints its output (stdout and stderr) as
# "LABEL: line", returns its status.
show() {
    local label="$1" out rc
    shift
    out=$(mktemp -p "$WORK")
    "$@" > "$out" 2>&1 < /dev/null
    rc=$?
    prefix "$label: " < "$out"
    rm -f "$out"
    return $rc
}

# say TEXT: a line on the console even from inside $(...).
say() {
    echo "$*" > /dev/console
}

# crashed RC ERRFILE: whether a program died (a signal, the loader's,
# malloc's or libxl's assertions) or misread the shipped /etc/xen/xl.conf
# (corrupted memory) rather than answered.
crashed() {
    [ "$1" -ge 127 ] && return 0
    grep -q -e 'Inconsistency detected by ld.so' -e 'malloc' -e 'corrupted' \
        -e 'double free' -e 'Segmentation fault' -e 'Illegal instruction' \
        -e 'Assertion .* failed' -e 'xl\.conf:[0-9]*: config parsing error' "$2" 2> /dev/null
}

# report_retry WHAT RC TRY ERRFILE [CFG]: a create of a good configuration failed
# and is tried again: RXEN-DOM0-CRASH if the program crashed, else
# RXEN-XL-RETRY (both with xl's first line of complaint).
report_retry() {
    local kind=RXEN-XL-RETRY
    crashed "$2" "$4" && kind=RXEN-DOM0-CRASH
    say "$kind $1 rc=$2 try=$3: $(grep -v '^Parsing config' "$4" | head -n 1)"
    [ -n "$5" ] && prefix "xl-cfg: " < "$5"
}

# CREATE_TIMEOUT: seconds an xl create may take before it counts as hung.
CREATE_TIMEOUT=180

# hung_report WHAT: RXEN-XL-HUNG and what dom0's toolstack processes are
# waiting in, for the log (a hung create is killed and fails).
hung_report() {
    local pid comm
    say "RXEN-XL-HUNG $1"
    for pid in $(ls /proc | grep '^[0-9]*$'); do
        comm=$(cat "/proc/$pid/comm" 2> /dev/null) || continue
        case "$comm" in
            xl | xenstored | oxenstored | xenconsoled | xenconsole | awk) ;;
            *) continue ;;
        esac
        say "RXEN-XL-HUNG   $pid $comm $(sed -n 's/^State:\t*//p' "/proc/$pid/status" 2> /dev/null) wchan=$(cat "/proc/$pid/wchan" 2> /dev/null) syscall=$(cut -d' ' -f1 "/proc/$pid/syscall" 2> /dev/null)"
        say "RXEN-XL-HUNG     stack: $(awk '{printf "%s ", $2}' "/proc/$pid/stack" 2> /dev/null)"
    done
}

# bounded SECS WHAT CMD...: CMD, but after SECS seconds it is reported
# (hung_report, while it still hangs) and killed (status 137).
bounded() {
    local secs="$1" what="$2" pid polls=0
    shift 2
    "$@" &
    pid=$!
    while kill -0 "$pid" 2> /dev/null; do
        if [ "$polls" -ge $((secs * 5)) ]; then
            hung_report "$what"
            kill -9 "$pid"
            break
        fi
        polls=$((polls + 1))
        sleep 0.2
    done
    wait "$pid"
}

# xl_run SECS ARGS...: `xl ARGS` (reported and killed after SECS seconds),
# run again (twice at most) if it crashed; its stdout and stderr as
# they were, its status.
xl_run() {
    local secs="$1" out err rc try=1
    shift
    out=$(mktemp -p "$WORK")
    err=$(mktemp -p "$WORK")
    while :; do
        bounded "$secs" "xl $1" xl "$@" > "$out" 2> "$err" < /dev/null
        rc=$?
        if [ "$rc" != 137 ] && crashed "$rc" "$err" && [ "$try" -lt 3 ]; then
            say "RXEN-DOM0-CRASH xl $1 rc=$rc try=$try: $(grep -v "^Parsing config" "$err" | head -n 1)"
            try=$((try + 1))
            continue
        fi
        break
    done
    cat "$out"
    cat "$err" >&2
    rm -f "$out" "$err"
    return $rc
}

# xlr ARGS...: xl_run with the create's time limit (none of the calls
# the scenarios make takes long; one that hangs is reported).
xlr() {
    xl_run "$CREATE_TIMEOUT" "$@"
}

# xl_info_field FIELD: one value of `xl info` (free_memory, nr_cpus, ...).
xl_info_field() {
    xlr info 2> /dev/null | sed -n "s/^$1 *: *//p"
}

# domain_exists NAME
domain_exists() {
    xlr domid "$1" > /dev/null 2>&1
}

# domu_cfg NAME [ACTION] [KERNEL] [MEMORY]: writes NAME's xl.cfg, prints its path.
# DOMU_MEMORY (MiB, default 256), DOMU_VCPUS (default 1), DOMU_ON_CRASH
# (destroy), DOMU_ON_REBOOT (restart, xl's default) and DOMU_SETTINGS (more
# xl.cfg lines, none of those) change it.
domu_cfg() {
    local name="$1" action="${2:-marker}" kernel="${3:-$DOMU_KERNEL}" memory="${4:-${DOMU_MEMORY:-256}}"
    cat > "$WORK/$name.cfg" <<EOF
type = "pvh"
name = "$name"
kernel = "$kernel"
ramdisk = "$DOMU_RAMDISK"
extra = "console=hvc0 ${DOMU_EXTRA:+$DOMU_EXTRA }rxen.test=$action"
memory = $memory
vcpus = ${DOMU_VCPUS:-1}
on_poweroff = "destroy"
on_crash = "${DOMU_ON_CRASH:-destroy}"
on_reboot = "${DOMU_ON_REBOOT:-restart}"
${DOMU_SETTINGS:-}
EOF
    echo "$WORK/$name.cfg"
}

# console_filter NAME: prefixes NAME's console lines and keeps them in
# $WORK/NAME.console; the first RXEN-MARKER leaves "uptime domid" in
# $WORK/NAME.marker. (awk reads its input in blocks: far fewer system calls
# than the shell's read, byte by byte.)
console_filter() {
    awk -v name="$1" -v marker="$WORK/$1.marker" -v keep="$WORK/$1.console" '
        {
            sub(/\r$/, "")
            print "RXEN-DOMU-CONSOLE " name ": " $0
            fflush()
            print $0 >> keep
            fflush(keep)
            if (!seen && index($0, "RXEN-MARKER")) {
                seen = 1
                getline up < "/proc/uptime"
                close("/proc/uptime")
                split(up, f, " ")
                domid = $0
                sub(/.*domid=/, "", domid)
                print f[1] " " domid > marker
                close(marker)
            }
        }'
}

# watchdog NAME: destroys NAME if it is still there after DOMU_TIMEOUT
# seconds, unless $WORK/NAME.done appears first.
watchdog() {
    local name="$1" t=0
    while [ ! -e "$WORK/$name.done" ]; do
        if [ "$t" -ge "$DOMU_TIMEOUT" ]; then
            echo "RXEN-DOMU-TIMEOUT $name"
            xlr destroy "$name" > /dev/null 2>&1
            return
        fi
        t=$((t + 1))
        sleep 1
    done
}

# domu_reset NAME: forgets an earlier run of NAME.
domu_reset() {
    rm -f "$WORK/$1.marker" "$WORK/$1.done" "$WORK/$1.rc" "$WORK/$1.err" "$WORK/$1.start" "$WORK/$1.console"
}

# run_domu NAME [ACTION]: `xl create -c` of NAME's configuration (written
# afresh for each attempt, see domu_cfg), the console (xl's console client,
# not a tty: it only copies the guest's output) prefixed; returns when the
# console ends, that is when the domain is gone. Leaves $WORK/NAME.start
# (uptime at xl create), .rc (xl's status), .marker (see console_filter).
# If xl crashes, the create is tried again (no domain) or the console
# attached with xl console (a domain).
run_domu() {
    local name="$1" action="$2" cfg rc try=1
    domu_reset "$name"
    watchdog "$name" &
    while :; do
        cfg=$(domu_cfg "$name" "$action")
        uptime_now > "$WORK/$name.start"
        { xl create -c "$cfg" < /dev/null 2> "$WORK/$name.err"; echo $? > "$WORK/$name.rc"; } | console_filter "$name"
        rc=$(cat "$WORK/$name.rc" 2> /dev/null || echo 1)
        prefix "xl-create $name: " < "$WORK/$name.err"
        [ "$rc" != 0 ] && [ "$try" -lt 3 ] || break
        report_retry "xl create -c $name" "$rc" "$try" "$WORK/$name.err" "$cfg"
        try=$((try + 1))
        if domain_exists "$name"; then
            attach_console "$name"
            rc=0
            break
        fi
    done
    touch "$WORK/$name.done"
    echo "$rc" > "$WORK/$name.rc"
    return "$rc"
}

# attach_console NAME: `xl console NAME`, prefixed, until the domain is gone
# (attached again if the client crashed while the domain runs).
attach_console() {
    local name="$1" rc
    while :; do
        { xl console "$name" < /dev/null 2> "$WORK/$name.cerr"; echo $? > "$WORK/$name.crc"; } | console_filter "$name"
        rc=$(cat "$WORK/$name.crc" 2> /dev/null || echo 1)
        crashed "$rc" "$WORK/$name.cerr" && domain_exists "$name" || break
        say "RXEN-DOM0-CRASH xl console $name rc=$rc: $(head -n 1 "$WORK/$name.cerr")"
    done
    prefix "xl-console $name: " < "$WORK/$name.cerr"
}

# start_domu NAME [ACTION]: `xl create` (xl returns once the domain runs),
# then `xl console NAME` in the background, prefixed.
start_domu() {
    local name="$1" action="$2" cfg rc try=1
    domu_reset "$name"
    while :; do
        cfg=$(domu_cfg "$name" "$action")
        uptime_now > "$WORK/$name.start"
        bounded "$CREATE_TIMEOUT" "xl create $name" xl create "$cfg" > "$WORK/$name.err" 2>&1 < /dev/null
        rc=$?
        prefix "xl-create $name: " < "$WORK/$name.err"
        [ "$rc" != 0 ] && [ "$try" -lt 3 ] || break
        report_retry "xl create $name" "$rc" "$try" "$WORK/$name.err" "$cfg"
        try=$((try + 1))
        if domain_exists "$name"; then
            rc=0
            break
        fi
    done
    echo "$rc" > "$WORK/$name.rc"
    if [ "$rc" != 0 ]; then
        touch "$WORK/$name.done"
        return "$rc"
    fi
    watchdog "$name" &
    { attach_console "$name"; touch "$WORK/$name.done"; } &
    return 0
}

# wait_marker NAME [TIMEOUT]: prints yes once NAME's marker is seen, no
# after TIMEOUT seconds or once NAME's run is over without one.
wait_marker() {
    local t=0
    while [ ! -s "$WORK/$1.marker" ]; do
        if [ "$t" -ge "${2:-$MARKER_TIMEOUT}" ] || [ -e "$WORK/$1.done" ]; then
            echo no
            return 1
        fi
        t=$((t + 1))
        sleep 1
    done
    echo yes
}

# poll SECS CMD...: CMD once a second until it succeeds (prints yes) or
# SECS seconds have passed (prints no, fails).
poll() {
    local secs="$1" t=0
    shift
    until "$@"; do
        if [ "$t" -ge "$secs" ]; then
            echo no
            return 1
        fi
        t=$((t + 1))
        sleep 1
    done
    echo yes
}

# wait_gone NAME [TIMEOUT]: prints yes once xl no longer knows NAME.
wait_gone() {
    poll "${2:-$GONE_TIMEOUT}" domain_gone "$1"
}

domain_gone() {
    ! domain_exists "$1"
}

# destroy_domu NAME: xl destroy NAME, then until it is gone and the
# scenario's background jobs (its console readers) have ended; fails if
# xl destroy did.
destroy_domu() {
    local rc=0
    show "xl-destroy $1" xlr destroy "$1" || rc=1
    wait_gone "$1" > /dev/null
    wait
    return $rc
}

# marker_fields NAME: "domid=<id> marker=yes|no create_to_marker=<s>".
marker_fields() {
    local name="$1" at domid start
    if [ -s "$WORK/$name.marker" ]; then
        read -r at domid < "$WORK/$name.marker"
        start=$(cat "$WORK/$name.start")
        echo "domid=$domid marker=yes create_to_marker=$(elapsed "$start" "$at")"
    else
        echo "domid=none marker=no create_to_marker=none"
    fi
}

# marker_domid NAME: the domid NAME's marker reported (or none).
marker_domid() {
    local at domid
    if [ -s "$WORK/$1.marker" ]; then
        read -r at domid < "$WORK/$1.marker"
        echo "$domid"
    else
        echo none
    fi
}

has_marker() {
    [ -s "$WORK/$1.marker" ]
}

scenario_info() {
    local rc=0 total free cpus version dom0
    show "xl-info" xlr info || rc=1
    show "xl-list" xlr list || rc=1
    show "xl-uptime" xlr uptime || rc=1
    show "xl-vcpu-list" xlr vcpu-list || rc=1
    xlr dmesg > "$WORK/dmesg" 2>&1 || rc=1
    tail -n 15 "$WORK/dmesg" | prefix "xl-dmesg: "
    show "xentop" xentop -b -i 1 || rc=1
    # Where dom0's kernel maps foreign pages ("Xen scratch", see
    # xen-toolstack-abi.md 1.4) and what its memory map says.
    prefix "iomem: " < /proc/iomem
    total=$(xl_info_field total_memory)
    free=$(xl_info_field free_memory)
    cpus=$(xl_info_field nr_cpus)
    version=$(xl_info_field xen_version)
    echo "RXEN-XL-INFO total_memory=${total:-none} free_memory=${free:-none} nr_cpus=${cpus:-none} xen_version=${version:-none}"
    # Name ID Mem VCPUs State Time(s)
    dom0=$(xlr list 2> /dev/null | awk '$1 == "Domain-0" { print "mem=" $3 " vcpus=" $4 }')
    echo "RXEN-XL-LIST-DOM0 ${dom0:-mem=none vcpus=none}"
    [ -n "$total" ] && [ -n "$dom0" ] || rc=1
    return $rc
}

# create[=ACTION]: one domU, its console through xl create -c.
scenario_create() {
    local name=domu-create free_before free_after gone rc
    free_before=$(xl_info_field free_memory)
    run_domu "$name" "${1:-marker}"
    rc=$?
    gone=$(wait_gone "$name")
    free_after=$(xl_info_field free_memory)
    echo "RXEN-XL-CREATE name=$name $(marker_fields "$name") free_before=$free_before free_after=$free_after gone=$gone xl_rc=$rc"
    [ "$rc" = 0 ] && has_marker "$name" && [ "$gone" = yes ]
}

# two[=ACTION]: two domUs at once.
scenario_two() {
    local a=domu-two-a b=domu-two-b pa pb free_before free_after together=no ga gb
    free_before=$(xl_info_field free_memory)
    run_domu "$a" "${1:-marker}" &
    pa=$!
    run_domu "$b" "${1:-marker}" &
    pb=$!
    while kill -0 "$pa" 2> /dev/null || kill -0 "$pb" 2> /dev/null; do
        if [ "$together" = no ] && xlr list 2> /dev/null | awk -v a="$a" -v b="$b" \
            '$1 == a { x = 1 } $1 == b { y = 1 } END { exit !(x && y) }'; then
            together=yes
        fi
        sleep 2
    done
    wait "$pa" "$pb"
    ga=$(wait_gone "$a")
    gb=$(wait_gone "$b")
    free_after=$(xl_info_field free_memory)
    echo "RXEN-XL-CREATE name=$a $(marker_fields "$a") free_before=$free_before free_after=$free_after gone=$ga xl_rc=$(cat "$WORK/$a.rc")"
    echo "RXEN-XL-CREATE name=$b $(marker_fields "$b") free_before=$free_before free_after=$free_after gone=$gb xl_rc=$(cat "$WORK/$b.rc")"
    if has_marker "$a" && has_marker "$b"; then
        echo "RXEN-XL-TWO markers=yes together=$together"
    else
        echo "RXEN-XL-TWO markers=no together=$together"
        return 1
    fi
    [ "$ga" = yes ] && [ "$gb" = yes ]
}

# rounds=N: N rounds of three domUs created with xl create (consoles through
# xl console), all three up at once, then destroyed with xl destroy. A
# round in which a domU never reached its marker is run again, twice at
# most in all (RXEN-XL-ROUND-AGAIN): the tests then look in rxen's log for
# the emulator fault that killed it (docs/design.md).
scenario_rounds() {
    local n="${1:-3}" i=1 k id name names domids markers gone free rc=0 again=0
    # Quiet domUs: their thousands of boot lines would cross xenconsoled
    # to dom0's console for nothing; the markers still come through.
    local DOMU_EXTRA=quiet
    while [ "$i" -le "$n" ]; do
        names=
        for k in 1 2 3; do
            name="domu-r$i-$k"
            names="$names $name"
            start_domu "$name" sleep=600 || rc=1
        done
        domids=
        markers=0
        for name in $names; do
            [ "$(wait_marker "$name")" = yes ] && markers=$((markers + 1))
            id=$(xlr domid "$name" 2> /dev/null)
            domids="$domids,${id:-none}"
        done
        show "xl-list" xlr list
        for name in $names; do
            domain_exists "$name" || continue
            show "xl-destroy $name" xlr destroy "$name" || rc=1
        done
        gone=yes
        for name in $names; do
            [ "$(wait_gone "$name")" = yes ] || gone=no
        done
        free=$(xl_info_field free_memory)
        if [ "$markers" != 3 ] && [ "$gone" = yes ] && [ "$again" -lt 2 ]; then
            echo "RXEN-XL-ROUND-AGAIN i=$i domids=${domids#,} free=$free markers=$markers"
            again=$((again + 1))
            continue
        fi
        echo "RXEN-XL-ROUND i=$i domids=${domids#,} free=$free markers=$markers gone=$gone"
        [ "$markers" = 3 ] && [ "$gone" = yes ] || rc=1
        i=$((i + 1))
    done
    wait
    return $rc
}

# errors: three configurations xl must refuse, then a good domU.
scenario_errors() {
    local rc=0 m
    try_bad nokernel "$(domu_cfg domu-err-nokernel marker /nonexistent/vmlinuz)" domu-err-nokernel || rc=1
    try_bad notkernel "$(domu_cfg domu-err-notkernel marker /etc/hostname)" domu-err-notkernel || rc=1
    try_bad toomuch "$(domu_cfg domu-err-toomuch marker "" 100000)" domu-err-toomuch || rc=1
    run_domu domu-err-after marker
    wait_gone domu-err-after > /dev/null
    if has_marker domu-err-after; then m=yes; else m=no; rc=1; fi
    echo "RXEN-XL-ERROR-AFTER marker=$m $(marker_fields domu-err-after)"
    return $rc
}

# try_bad CASE CFG NAME: xl create must fail and leave no domain.
try_bad() {
    local case="$1" cfg="$2" name="$3" out rc msg left=no
    out="$WORK/$name.out"
    xlr create "$cfg" > "$out" 2>&1
    rc=$?
    prefix "xl-create $name: " < "$out"
    msg=$(awk 'tolower($0) ~ /error|fail|invalid|cannot|unable|not / { print; found = 1; exit }
               !/^Parsing config/ && first == "" { first = $0 }
               END { if (!found) print first }' "$out")
    if domain_exists "$name"; then
        left=yes
        xlr destroy "$name" > /dev/null 2>&1
    fi
    echo "RXEN-XL-ERROR case=$case rc=$rc left=$left msg=$msg"
    [ "$rc" != 0 ] && [ "$left" = no ]
}

# destroy: a domU that would sleep 600 s, destroyed once it runs.
scenario_destroy() {
    stop_running_domu domu-destroy DESTROY xl-destroy xlr destroy domu-destroy
}

# shutdown: the same, shut down by xl shutdown -w (the guest's kernel gets
# control/shutdown through Xenstore and powers off).
scenario_shutdown() {
    stop_running_domu domu-shutdown SHUTDOWN xl-shutdown xl_run 180 shutdown -w domu-shutdown
}

# stop_running_domu NAME WHAT LABEL CMD...: starts NAME (sleep=600), waits
# for its marker, runs CMD (its output prefixed LABEL), checks NAME is gone.
stop_running_domu() {
    local name="$1" what="$2" label="$3" pid running rc gone t0 t1
    shift 3
    run_domu "$name" sleep=600 &
    pid=$!
    running=$(wait_marker "$name")
    t0=$(uptime_now)
    show "$label $name" "$@"
    rc=$?
    gone=$(wait_gone "$name")
    t1=$(uptime_now)
    if [ "$gone" = no ]; then
        xlr destroy "$name" > /dev/null 2>&1
    fi
    wait "$pid"
    echo "RXEN-XL-$what gone=$gone name=$name running=$running rc=$rc seconds=$(elapsed "$t0" "$t1")"
    [ "$gone" = yes ] && [ "$rc" = 0 ]
}

# demo[=ACTION]: two domUs with xl create, xl list while they run, their
# consoles, until both are done (ACTION time by default: 10 s of uptime).
scenario_demo() {
    local action="${1:-time}" a=demo-1 b=demo-2 m=yes ga gb g
    start_domu "$a" "$action" || return 1
    start_domu "$b" "$action" || return 1
    show "xl-list" xlr list
    wait_marker "$a" > /dev/null || m=no
    wait_marker "$b" > /dev/null || m=no
    show "xl-list" xlr list
    ga=$(wait_gone "$a" "$DOMU_TIMEOUT")
    gb=$(wait_gone "$b" "$DOMU_TIMEOUT")
    wait
    show "xl-list" xlr list
    [ "$ga" = yes ] && [ "$gb" = yes ] && g=yes || g=no
    echo "RXEN-XL-DEMO markers=$m gone=$g"
    [ "$m" = yes ] && [ "$g" = yes ]
}
