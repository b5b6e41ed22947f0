#!/bin/sh
# rxen dom0 /init (busybox sh): see harness/src/dom0/mod.rs.
#
# Mounts the usual file systems, loads the Xen modules, starts the toolstack
# as Debian's /etc/init.d/xen does (xenstored, xen-init-dom0, xenconsoled),
# runs the scenarios of rxen.dom0=a,b=arg,... (functions scenario_NAME in
# /etc/rxen/scenarios.sh) and powers off. The RXEN-... lines are for the
# tests, each on a line of its own on the console (hvc0).
#
# rxen.dom0 and rxen.xenstored contain a dot, so the kernel takes them for
# module parameters and does not pass them to init: read /proc/cmdline.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
umask 022

mount -t proc proc /proc
uptime_now() {
    read -r up _ < /proc/uptime
    echo "$up"
}
echo "RXEN-DOM0-INIT uptime=$(uptime_now)"

mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# What udev and systemd would add: ptys (xenconsoled opens one per domain),
# shared memory, the /dev/std* and /dev/fd links (hotplug scripts use them).
mkdir -p /dev/pts /dev/shm /run/lock /run/xen /run/xenstored /tmp /var/log/xen
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
ln -sf /proc/kcore /dev/core
hostname -F /etc/hostname

scenarios=
xenstored_choice=
for opt in $(cat /proc/cmdline); do
    case "$opt" in
        rxen.dom0=*) scenarios="${opt#rxen.dom0=}" ;;
        rxen.xenstored=*) xenstored_choice="${opt#rxen.xenstored=}" ;;
    esac
done

# Modules, in dependency order: "name path" lines.
failed=
while read -r name path; do
    [ -n "$name" ] || continue
    [ -d "/sys/module/$name" ] && continue
    insmod "$path" || failed="$failed $name"
done < /etc/rxen/modules
if [ -z "$failed" ]; then
    echo "RXEN-DOM0-MODULES ok"
else
    echo "RXEN-DOM0-MODULES failed$failed"
fi

[ -d /proc/xen ] || mkdir -p /proc/xen
mount -t xenfs xenfs /proc/xen
echo "RXEN-DOM0-CAPABILITIES $(cat /proc/xen/capabilities 2>/dev/null)"

toolstack_failed() {
    echo "RXEN-TOOLSTACK-FAILED $1"
    return 1
}

# As /etc/init.d/xen start (xen-utils-common), without start-stop-daemon.
start_toolstack() {
    grep -q control_d /proc/xen/capabilities 2>/dev/null || { toolstack_failed capabilities; return; }
    XENSTORED_DIR=/run/xenstored
    [ -r /etc/default/xen ] && . /etc/default/xen
    ROOT=$(/usr/lib/xen-common/bin/xen-dir) || { toolstack_failed xen-dir; return; }
    echo "RXEN-DOM0-XEN-VERSION $(/usr/lib/xen-common/bin/xen-version) root=$ROOT"
    mkdir -p -m 700 /run/xen
    mkdir -p "$XENSTORED_DIR"
    export XENSTORED_ROOTDIR="$XENSTORED_DIR"
    # Debian: XENSTORED from /etc/default/xen, else oxenstored (then C
    # xenstored). rxen.xenstored=c|o on the command line overrides.
    case "$xenstored_choice" in
        c) XENSTORED="$ROOT/bin/xenstored" ;;
        o) XENSTORED="$ROOT/bin/oxenstored" ;;
    esac
    if [ -z "$XENSTORED" ]; then
        XENSTORED="$ROOT/bin/oxenstored"
        [ -x "$XENSTORED" ] || XENSTORED="$ROOT/bin/xenstored"
    fi
    echo "RXEN-DOM0-XENSTORED $XENSTORED"
    # Both daemonize; the pid file is written once they are ready.
    # shellcheck disable=SC2086
    "$XENSTORED" $XENSTORED_ARGS --pid-file /run/xenstore.pid || { toolstack_failed xenstored; return; }
    t=0
    until xenstore-read -s / >/dev/null 2>&1; do
        t=$((t + 1))
        [ "$t" -lt 30 ] || { toolstack_failed xenstore-read; return; }
        sleep 1
    done
    [ -r /run/xenstore.pid ] && echo -1000 > "/proc/$(cat /run/xenstore.pid)/oom_score_adj" 2>/dev/null
    "$ROOT/bin/xen-init-dom0" > /run/rxen/xen-init-dom0.log 2>&1
    rc=$?
    while IFS= read -r line; do echo "xen-init-dom0: $line"; done < /run/rxen/xen-init-dom0.log
    [ "$rc" = 0 ] || { toolstack_failed "xen-init-dom0 rc=$rc"; return; }
    # shellcheck disable=SC2086
    "$ROOT/bin/xenconsoled" $XENCONSOLED_ARGS --pid-file /run/xenconsoled.pid || { toolstack_failed xenconsoled; return; }
    t=0
    until [ -r /run/xenconsoled.pid ] && [ -d "/proc/$(cat /run/xenconsoled.pid)" ]; do
        t=$((t + 1))
        [ "$t" -lt 20 ] || { toolstack_failed xenconsoled; return; }
        sleep 0.5
    done
    echo "RXEN-TOOLSTACK-UP uptime=$(uptime_now)"
}

start_toolstack
mkdir -p /run/rxen
. /etc/rxen/scenarios.sh

# An interactive root shell on the console, with job control (cttyhack
# makes the console its controlling terminal).
run_shell() {
    echo "RXEN-DOM0-SHELL (exit to power off)"
    setsid cttyhack /bin/sh -l
}

for item in $(echo "$scenarios" | tr ',' ' '); do
    name="${item%%=*}"
    arg=
    case "$item" in *=*) arg="${item#*=}" ;; esac
    echo "RXEN-SCENARIO-BEGIN $name"
    if [ "$name" = shell ]; then
        run_shell
        rc=$?
    else
        fn="scenario_$(echo "$name" | tr - _)"
        if type "$fn" >/dev/null 2>&1; then
            "$fn" "$arg"
            rc=$?
        else
            echo "RXEN-SCENARIO-UNKNOWN $name"
            rc=127
        fi
    fi
    echo "RXEN-SCENARIO-END $name rc=$rc"
done

echo "RXEN-DOM0-DONE"
sync
poweroff -f
# Only reached if the power-off failed: init must not exit (that panics).
echo "RXEN-POWEROFF-FAILED"
while true; do sleep 1000; done
