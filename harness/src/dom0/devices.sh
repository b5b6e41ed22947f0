
# ---- Disks and networks: dom0's back-ends, driven by xl (appended to scenarios.sh) ----
#
# Guests get PV disks (image files in dom0, attached by Xen's own block
# script through a loop device, served by xen-blkback) and PV network
# interfaces (xen-netback, enslaved to the bridge xenbr0 by vif-bridge).
# Lines for the tests (the guests' own lines come as RXEN-DOMU-CONSOLE):
#   RXEN-XL-DISK writer=<rc> reader=<rc> loops_left=<n> backends_left=<n>
#   RXEN-XL-NET a=<rc> b=<rc> dom0_bytes=<n> dom0_sha256=<sum> dom0_ping=ok|fail
#   RXEN-XL-HOTPLUG block_attach=<rc> block_seen=yes|no block_list=<n> block_detach=<rc> block_gone=yes|no net_attach=<rc> net_seen=yes|no net_list=<n> net_detach=<rc> net_gone=yes|no lists_after=<n>
#   RXEN-XL-TEARDOWN how=destroy|crash synced=<n> matched=<n> sharing_before=<maps:pinned:ports> sharing_during=<…> sharing_after=<…> backends_left=<n> loops_left=<n> free_before=<MiB> free_after=<MiB> dom0_total_before=<kB> dom0_total_after=<kB> dom0_free_before=<kB> dom0_free_after=<kB>
#   (sharing_*: rxen's totals of grant maps, pinned refs and ports, from
#   xl debug-keys q and xl dmesg, as maps:pinned:ports)

IMAGES=/var/lib/xen/images
ROOT_IMG=$IMAGES/root.img
RO_IMG=$IMAGES/ro.img
CD_IMG=$IMAGES/cd.img

# make_images: the guests' root file system (the test initramfs's files,
# whose /init runs again from the disk) as an ext4 image of 96 MiB, and two
# small read-only images with a label file, made with mke2fs -d as a user
# would. Sparse files in dom0's memory. (By its path: busybox's shell runs
# its own applet of the same name, which has no -d, before looking in PATH.)
MKE2FS=/sbin/mke2fs
make_images() {
    local tree="$WORK/root-tree" label
    [ -s "$ROOT_IMG" ] && return 0
    mkdir -p "$IMAGES" "$tree"
    (cd "$tree" && cpio -id < "$DOMU_RAMDISK" 2> /dev/null) || return 1
    "$MKE2FS" -q -F -t ext4 -L rxen-root -d "$tree" "$ROOT_IMG" 96M || return 1
    for label in ro cd; do
        mkdir -p "$WORK/$label-tree"
        echo "rxen-$label-image" > "$WORK/$label-tree/label"
        "$MKE2FS" -q -F -t ext4 -d "$WORK/$label-tree" "$IMAGES/$label.img" 16M || return 1
    done
}

# disk_line VDEV ACCESS IMAGE: one disk of an xl.cfg's disk list.
disk_line() {
    echo "'format=raw, vdev=$1, access=$2, target=$3'"
}

# root_disk_settings [MORE DISK LINES]: DOMU_SETTINGS for a guest booting
# from xvda on the root image.
root_disk_settings() {
    local list d
    list=$(disk_line xvda rw "$ROOT_IMG")
    for d in "$@"; do
        list="$list, $d"
    done
    echo "disk = [ $list ]"
}

# bridge_up: xenbr0 with dom0 at 10.0.0.1, as a user's
# /etc/network/interfaces would make it.
bridge_up() {
    [ -e /sys/class/net/xenbr0 ] && return 0
    ip link add name xenbr0 type bridge stp_state 0 forward_delay 0 || return 1
    ip addr add 10.0.0.1/24 dev xenbr0
    ip link set xenbr0 up
    ip link set lo up
}

# loops_left: loop devices still attached (the block script's).
loops_left() {
    local n
    n=$(losetup -a 2> /dev/null | grep -c .)
    echo "${n:-0}"
}

# backends_left: dom0's back-end devices (vbd-*, vif-*) still there.
backends_left() {
    local n
    n=$(ls /sys/bus/xen-backend/devices 2> /dev/null | grep -c .)
    echo "${n:-0}"
}

# sharing: rxen's totals of grant maps, pinned refs and event channel ports
# (xl debug-keys q prints them, xl dmesg reads them back) as maps:pinned:ports.
sharing() {
    xlr debug-keys q > /dev/null 2>&1
    xlr dmesg 2> /dev/null | sed -n 's/.*rxen: totals: grant maps \([0-9]*\), refs pinned \([0-9]*\), ports \([0-9]*\).*/\1:\2:\3/p' | tail -n 1
}

# console_has NAME TEXT: NAME's console has shown TEXT.
console_has() {
    grep -q -F -e "$2" "$WORK/$1.console" 2> /dev/null
}

# console_field NAME PREFIX FIELD: FIELD of NAME's last line starting PREFIX.
console_field() {
    grep "^$2" "$WORK/$1.console" 2> /dev/null | tail -n 1 | sed -n "s/.* $3=\([^ ]*\).*/\1/p"
}

# disk: a guest boots from xvda, writes 8 MiB and syncs, powers off; a
# second one boots from the same image with two read-only disks more and
# reads it all back.
scenario_disk() {
    local w r
    make_images || return 1
    DOMU_EXTRA="root=/dev/xvda" DOMU_SETTINGS="$(root_disk_settings)" \
        run_domu disk-writer disk-write=8
    w=$?
    DOMU_EXTRA="root=/dev/xvda" DOMU_SETTINGS="$(root_disk_settings "$(disk_line xvdb ro "$RO_IMG")" "$(disk_line xvdc ro "$CD_IMG")")" \
        run_domu disk-reader disk-read
    r=$?
    poll 60 only_dom0 > /dev/null
    echo "RXEN-XL-DISK writer=$w reader=$r loops_left=$(loops_left) backends_left=$(backends_left)"
    [ "$w" = 0 ] && [ "$r" = 0 ]
}

# net[=MIB]: two guests on xenbr0; one sends MIB MiB (64 by default) to
# the other and then to dom0, over TCP; dom0 pings the receiver.
scenario_net() {
    local mib="${1:-64}" a=net-a b=net-b ping rca rcb sum listener
    bridge_up || return 1
    rm -f "$WORK/from-domu" "$WORK/hold"
    # dom0's listener reads its input from a FIFO held open (by fd 3) and
    # never written: at end of input busybox's nc would end the transfer.
    mkfifo "$WORK/hold"
    nc -l -p 5002 < "$WORK/hold" > "$WORK/from-domu" &
    listener=$!
    exec 3> "$WORK/hold"
    DOMU_SETTINGS="vif = [ 'bridge=xenbr0, mac=00:16:3e:52:00:0a' ]" start_domu "$a" net-recv=10.0.0.11 || return 1
    DOMU_SETTINGS="vif = [ 'bridge=xenbr0, mac=00:16:3e:52:00:0b' ]" start_domu "$b" "net-send=10.0.0.12,10.0.0.11,$mib" || return 1
    poll 120 console_has "$a" "RXEN-NET-PING 10.0.0.1" > /dev/null
    ping=fail
    ping -c 2 -W 2 10.0.0.11 > /dev/null 2>&1 && ping=ok
    poll 600 test -e "$WORK/$a.done" > /dev/null
    poll 600 test -e "$WORK/$b.done" > /dev/null
    # The listener ends with its connection; one that never came is ended.
    exec 3>&-
    kill "$listener" 2> /dev/null
    wait
    rca=$(cat "$WORK/$a.rc") rcb=$(cat "$WORK/$b.rc")
    sum=$(sha256sum "$WORK/from-domu" | cut -c1-64)
    echo "RXEN-XL-NET a=$rca b=$rcb dom0_bytes=$(stat -c %s "$WORK/from-domu") dom0_sha256=$sum dom0_ping=$ping"
    rm -f "$WORK/from-domu" "$WORK/hold"
    [ "$rca" = 0 ] && [ "$rcb" = 0 ]
}

# xl_rows CMD NAME: the rows of `xl CMD NAME` (block-list, network-list)
# below the heading.
xl_rows() {
    xlr "$1" "$2" 2> /dev/null | awk 'NR > 1' | grep -c .
}

# hotplug: a running guest (watching its devices) gets a read-only disk
# and a network interface, each listed by xl and then taken away again.
scenario_hotplug() {
    local g=hotplug ba bseen bl bd bgone na nseen nl nd ngone after
    make_images && bridge_up || return 1
    start_domu "$g" devwatch=150 || return 1
    poll 120 console_has "$g" "RXEN-DEVWATCH ready" > /dev/null
    xlr block-attach "$g" "format=raw, vdev=xvdb, access=ro, target=$RO_IMG"
    ba=$?
    bseen=$(poll 60 console_has "$g" "RXEN-DEV + xvdb")
    bl=$(xl_rows block-list "$g")
    xlr block-detach "$g" xvdb
    bd=$?
    bgone=$(poll 60 console_has "$g" "RXEN-DEV - xvdb")
    xlr network-attach "$g" bridge=xenbr0 mac=00:16:3e:52:00:0c
    na=$?
    nseen=$(poll 60 console_has "$g" "RXEN-DEV + eth0")
    nl=$(xl_rows network-list "$g")
    xlr network-detach "$g" 00:16:3e:52:00:0c
    nd=$?
    ngone=$(poll 60 console_has "$g" "RXEN-DEV - eth0")
    after=$(( $(xl_rows block-list "$g") + $(xl_rows network-list "$g") ))
    xlr destroy "$g" > /dev/null 2>&1
    wait_gone "$g" > /dev/null
    wait
    echo "RXEN-XL-HOTPLUG block_attach=$ba block_seen=$bseen block_list=$bl block_detach=$bd block_gone=$bgone net_attach=$na net_seen=$nseen net_list=$nl net_detach=$nd net_gone=$ngone lists_after=$after"
    [ "$bseen" = yes ] && [ "$bgone" = yes ] && [ "$nseen" = yes ] && [ "$ngone" = yes ]
}

# synced_count NAME: how many RXEN-DISK-SYNCED lines NAME has shown.
synced_count() {
    count_lines '^RXEN-DISK-SYNCED' "$WORK/$1.console"
}

# count_lines PATTERN FILE: lines of FILE matching (0 if there is no FILE).
count_lines() {
    local n
    n=$(grep -c -e "$1" "$2" 2> /dev/null)
    echo "${n:-0}"
}

# only_dom0: no domain but dom0 left (a guest xl created ends in the
# background after its console closed).
only_dom0() {
    [ "$(xlr list 2> /dev/null | awk 'NR > 2' | grep -c .)" = 0 ]
}

dom0_mem_free() {
    awk '$1 == "MemFree:" { print $2 }' /proc/meminfo
}

# synced_at_least NAME N
synced_at_least() {
    [ "$(synced_count "$1")" -ge "$2" ]
}

# matched WRITER READER: how many files WRITER reported synced READER
# read back with the same checksum. (Only the checksum's 64 digits: a
# kernel message can follow on the same console line.)
matched() {
    sed -n 's/^RXEN-DISK-SYNCED \(name=[^ ]*\) \(sha256=[0-9a-f]\{64\}\).*/\1 \2/p' "$WORK/$1.console" | while read -r name sum; do
        grep -q -F "RXEN-DISK-FILE $name bytes=1048576 $sum" "$WORK/$2.console" && echo match
    done | grep -c match
}

dom0_mem_total() {
    awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo
}

# teardown: a guest with a disk and a network interface is destroyed in
# the middle of a write loop, then another crashes in the middle of a
# write: every grant, port and back-end is gone after each, the memory is
# back, and what each had synced is on the disk.
scenario_teardown() {
    local s0 f0 t0 d0 how rc=0
    make_images && bridge_up || return 1
    poll 60 only_dom0 > /dev/null
    s0=$(sharing) f0=$(xl_info_field free_memory) t0=$(dom0_mem_total) d0=$(dom0_mem_free)
    for how in destroy crash; do
        teardown_round "$how" "$s0" "$f0" "$t0" "$d0" || rc=1
    done
    return $rc
}

# teardown_round destroy|crash SHARING FREE DOM0_TOTAL DOM0_FREE: one guest
# ended so, measured against the figures from before any.
teardown_round() {
    local how="$1" s0="$2" f0="$3" t0="$4" d0="$5" g="teardown-$1" c="check-$1"
    local action=disk-loop=10.0.0.21 s1 s2 f1 t1 d1 synced m
    [ "$how" = crash ] && action=disk-loop=10.0.0.22,12
    DOMU_EXTRA="root=/dev/xvda" DOMU_SETTINGS="$(root_disk_settings)
vif = [ 'bridge=xenbr0, mac=00:16:3e:52:00:0d' ]" start_domu "$g" "$action" || return 1
    poll 180 synced_at_least "$g" 4 > /dev/null
    s1=$(sharing)
    [ "$how" = destroy ] && xlr destroy "$g" > /dev/null 2>&1
    wait_gone "$g" > /dev/null
    wait
    s2=$(sharing) f1=$(xl_info_field free_memory) t1=$(dom0_mem_total) d1=$(dom0_mem_free)
    synced=$(synced_count "$g")
    DOMU_EXTRA="root=/dev/xvda" DOMU_SETTINGS="$(root_disk_settings)" run_domu "$c" disk-read
    m=$(matched "$g" "$c")
    poll 60 only_dom0 > /dev/null
    echo "RXEN-XL-TEARDOWN how=$how synced=$synced matched=$m sharing_before=$s0 sharing_during=$s1 sharing_after=$s2 backends_left=$(backends_left) loops_left=$(loops_left) free_before=$f0 free_after=$f1 dom0_total_before=$t0 dom0_total_after=$t1 dom0_free_before=$d0 dom0_free_after=$d1"
    [ "$synced" -ge 4 ] && [ "$m" = "$synced" ]
}

# iobench[=MIB]: the I/O figures of `cargo xtask bench`: a guest writes and
# reads MIB MiB (64 by default) on a raw disk with direct I/O
# (RXEN-DISK-BENCH), then the net scenario's transfers (RXEN-NET-SENT).
scenario_iobench() {
    local mib="${1:-64}" rc
    mkdir -p "$IMAGES"
    rm -f "$IMAGES/scratch.img"
    truncate -s "$((mib * 2))M" "$IMAGES/scratch.img" || return 1
    DOMU_SETTINGS="disk = [ $(disk_line xvda rw "$IMAGES/scratch.img") ]" \
        run_domu io-disk "disk-bench=xvda,$mib"
    rc=$?
    rm -f "$IMAGES/scratch.img"
    poll 60 only_dom0 > /dev/null
    scenario_net "$mib" && [ "$rc" = 0 ]
}
