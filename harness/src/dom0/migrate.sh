
# ---- Save, restore and migration (appended to scenarios.sh) ----
#
# The guests run guest-probe watch with a region of memory it checks and
# rewrites every second (mismatches= on its lines). Lines for the tests:
#   RXEN-XL-SAVE vcpus=<n> before=<count> saved=<rc> restored=<rc> after=<count> cpus=<online after> mismatches=<m> wall_before=<s> wall_after=<s> domid_before=<id> domid_after=<id>
#   RXEN-XL-SAVE-FREE vcpus=<n> free_before=<MiB> free_after=<MiB>  (xl info, before the guest and after its restored self is gone)
#   RXEN-XL-CHECKPOINT before=<count> saved=<rc> after=<count> state=<xl state> mismatches=<m> domid_before=<id> domid_after=<id>
#   RXEN-XL-SAVE-FAIL vanished=<rc> full=<rc> truncated=<rc> garbage=<rc> before=<count> after=<count> state=<xl state> mismatches=<m> domid_before=<id> domid_after=<id> copies=<rows>
#   RXEN-XL-MIGRATE-FAIL migrated=<rc> before=<count> after=<count> state=<xl state> mismatches=<m> domid_before=<id> domid_after=<id> domains=<rows>
#   RXEN-XL-SAVE-FAIL-FREE / RXEN-XL-MIGRATE-FAIL-FREE free_before=<MiB> free_after=<MiB>
#     (xl info, before the guest was created and after it is gone: a running
#     guest's page tables change size when log-dirty splits its pages)
#   RXEN-XL-MIGRATE migrated=<rc> before=<count> after=<count> mismatches=<m> downtime_ms=<ms> wall=<s> domid_before=<id> domid_after=<id> domains=<rows named so>

# Save images live on dom0's root file system (in its RAM: /run is too
# small), so the guests saved are small.
SAVES=/var/lib/xen/save
SAVE_MEMORY=128
SAVE_REGION_MIB=16

# wall_offset NAME: the guest's wall clock (its latest line's wall=) minus
# dom0's, in whole seconds (the line is at most a second old).
wall_offset() {
    local g d
    g=$(watch_field "$1" wall)
    d=$(date +%s)
    [ -n "$g" ] && [ -n "$d" ] && awk -v g="$g" -v d="$d" 'BEGIN { printf "%d", g - d }'
}

# free_back MIB: whether xl info's free_memory is back to MIB.
free_back() {
    [ "$(xl_info_field free_memory)" -ge "$1" ]
}

# save_domu NAME VCPUS: creates NAME counting with its region, once it
# has counted a little.
save_domu() {
    local DOMU_MEMORY=$SAVE_MEMORY DOMU_VCPUS=$2
    mkdir -p "$SAVES"
    start_domu "$1" "watch=300,$SAVE_REGION_MIB" || return 1
    [ "$(wait_marker "$1")" = yes ] || return 1
    wait_watch "$1" cpus "$2" 30 > /dev/null
    sleep 3
}

# save[=VCPUS]: a domU (one vCPU, then two; or VCPUS) is saved to a file (xl save suspends
# it, copies its memory and state and destroys it) and restored from it:
# it counts on from where it was under a new domain id, with its region
# intact, its CPUs and its wall clock right, its console working.
scenario_save() {
    local vcpus rc=0
    for vcpus in ${1:-1 2}; do
        save_restore "domu-save$vcpus" "$vcpus" || rc=1
    done
    return $rc
}

save_restore() {
    local name="$1" vcpus="$2" before after ob oa saved restored d0 d1 f0 f1 rc=0
    f0=$(xl_info_field free_memory)
    save_domu "$name" "$vcpus" || return 1
    d0=$(xlr domid "$name" 2> /dev/null)
    ob=$(wall_offset "$name")
    before=$(watch_field "$name" n)
    show "xl-save $name" xlr save "$name" "$SAVES/$name.img"
    saved=$?
    wait_gone "$name" > /dev/null
    show "xl-restore $name" xlr restore "$SAVES/$name.img"
    restored=$?
    if [ "$restored" = 0 ]; then
        { attach_console "$name"; } &
        sleep 6
    fi
    after=$(watch_field "$name" n)
    oa=$(wall_offset "$name")
    d1=$(xlr domid "$name" 2> /dev/null)
    echo "RXEN-XL-SAVE vcpus=$vcpus before=$before saved=$saved restored=$restored after=$after cpus=$(watch_field "$name" cpus) mismatches=$(watch_field "$name" mismatches) wall_before=$ob wall_after=$oa domid_before=$d0 domid_after=$d1"
    destroy_domu "$name"
    rm -f "$SAVES/$name.img"
    poll 10 free_back "$f0" > /dev/null
    f1=$(xl_info_field free_memory)
    echo "RXEN-XL-SAVE-FREE vcpus=$vcpus free_before=$f0 free_after=$f1"
    [ "$saved" = 0 ] && [ "$restored" = 0 ] || rc=1
    return $rc
}

# checkpoint: xl save -c writes the image and leaves the guest running
# where it was, in the same domain.
scenario_checkpoint() {
    local name=domu-checkpoint before after saved d0 d1 state rc=0
    save_domu "$name" 1 || return 1
    d0=$(xlr domid "$name" 2> /dev/null)
    before=$(watch_field "$name" n)
    show "xl-save-c $name" xlr save -c "$name" "$SAVES/$name.img"
    saved=$?
    sleep 5
    after=$(watch_field "$name" n)
    state=$(xl_state "$name")
    d1=$(xlr domid "$name" 2> /dev/null)
    echo "RXEN-XL-CHECKPOINT before=$before saved=$saved after=$after state=$state mismatches=$(watch_field "$name" mismatches) domid_before=$d0 domid_after=$d1 image=$(stat -c %s "$SAVES/$name.img" 2> /dev/null)"
    destroy_domu "$name"
    rm -f "$SAVES/$name.img"
    [ "$saved" = 0 ] || rc=1
    return $rc
}

# max_gap NAME FROM: the longest gap (ms) NAME's lines from line FROM on
# report (the guest's own measure of the time it did not run).
max_gap() {
    grep '^RXEN-WATCH' "$WORK/$1.console" 2> /dev/null | tail -n +"$2" |
        sed -n 's/.* gap_ms=\([0-9]*\).*/\1/p' | sort -n | tail -n 1
}

# migrate: xl migrate to this same machine while the guest rewrites its
# region every second: the receiving xl runs here (-s "" makes xl run the
# "host" as the command, no ssh); the guest continues in the new domain
# with its count and region intact; its own timestamps give the downtime.
scenario_migrate() {
    local name=domu-migrate before after from d0 d1 migrated rc=0
    save_domu "$name" 1 || return 1
    d0=$(xlr domid "$name" 2> /dev/null)
    before=$(watch_field "$name" n)
    from=$(watch_lines "$name")
    show "xl-migrate $name" xlr migrate -s "" "$name" "xl migrate-receive"
    migrated=$?
    if [ "$migrated" = 0 ]; then
        { attach_console "$name"; } &
        sleep 6
    fi
    after=$(watch_field "$name" n)
    d1=$(xlr domid "$name" 2> /dev/null)
    echo "RXEN-XL-MIGRATE migrated=$migrated before=$before after=$after mismatches=$(watch_field "$name" mismatches) downtime_ms=$(max_gap "$name" "$from") wall=$(wall_offset "$name") domid_before=$d0 domid_after=$d1 domains=$(xlr list 2> /dev/null | grep -c "$name")"
    destroy_domu "$name"
    [ "$migrated" = 0 ] || rc=1
    return $rc
}

# The receiving end of a migration that dies half-way: it greets the sender
# as xl migrate-receive does, takes some 40 MiB of the stream, and exits.
DYING_RECEIVER="sh -c 'echo \"xl migration receiver ready, send binary domain data.\"; head -c 40000000 > /dev/null; exit 1'"

# migratefail: a live migration whose receiver dies half-way fails with an
# error; the guest carries on in its own domain, untouched; once it is
# gone, free memory is as it was before it.
scenario_migratefail() {
    local name=domu-migratefail before after d0 d1 f0 f1 migrated rc=0
    f0=$(xl_info_field free_memory)
    save_domu "$name" 1 || return 1
    d0=$(xlr domid "$name" 2> /dev/null)
    before=$(watch_field "$name" n)
    show "xl-migrate $name" xlr migrate -s "" "$name" "$DYING_RECEIVER"
    migrated=$?
    sleep 5
    after=$(watch_field "$name" n)
    d1=$(xlr domid "$name" 2> /dev/null)
    echo "RXEN-XL-MIGRATE-FAIL migrated=$migrated before=$before after=$after state=$(xl_state "$name") mismatches=$(watch_field "$name" mismatches) domid_before=$d0 domid_after=$d1 domains=$(xlr list 2> /dev/null | grep -c "$name")"
    destroy_domu "$name"
    poll 10 free_back "$f0" > /dev/null
    f1=$(xl_info_field free_memory)
    echo "RXEN-XL-MIGRATE-FAIL-FREE free_before=$f0 free_after=$f1"
    [ "$migrated" != 0 ] || rc=1
    return $rc
}

# savefail: saves and restores that cannot succeed end with xl's error and
# cost nothing: a save to a directory that is not there, a save to a file
# system that fills up half-way (the suspended guest is resumed where it
# was), a restore of a truncated image and of one that is garbage (both
# under another name, beside the running guest: no domain is left of
# them). The guest counts on, its region intact, in its own domain; once
# it is gone, free memory is as it was before it.
scenario_savefail() {
    local name=domu-savefail small=/mnt/rxen-small before after d0 d1 f0 f1
    local vanished full truncated garbage rc=0
    f0=$(xl_info_field free_memory)
    save_domu "$name" 1 || return 1
    d0=$(xlr domid "$name" 2> /dev/null)
    before=$(watch_field "$name" n)
    show "xl-save-vanished $name" xlr save "$name" /nonexistent/dir/image
    vanished=$?
    mkdir -p "$small"
    mount -t tmpfs -o size=24m tmpfs "$small"
    show "xl-save-full $name" xlr save "$name" "$small/image"
    full=$?
    rm -f "$small/image"
    show "xl-save-c $name" xlr save -c "$name" "$SAVES/$name.img"
    head -c 20000000 "$SAVES/$name.img" > "$small/truncated"
    rm -f "$SAVES/$name.img"
    show "xl-restore-truncated" xlr restore "$(domu_cfg "$name-copy")" "$small/truncated"
    truncated=$?
    umount "$small"
    dd if=/dev/urandom of="$SAVES/$name.garbage" bs=1024 count=256 2> /dev/null
    show "xl-restore-garbage" xlr restore "$(domu_cfg "$name-copy")" "$SAVES/$name.garbage"
    garbage=$?
    rm -f "$SAVES/$name.garbage"
    wait_gone "$name-copy" > /dev/null
    sleep 4
    after=$(watch_field "$name" n)
    d1=$(xlr domid "$name" 2> /dev/null)
    echo "RXEN-XL-SAVE-FAIL vanished=$vanished full=$full truncated=$truncated garbage=$garbage before=$before after=$after state=$(xl_state "$name") mismatches=$(watch_field "$name" mismatches) domid_before=$d0 domid_after=$d1 copies=$(xlr list 2> /dev/null | grep -c "$name-copy")"
    destroy_domu "$name"
    poll 10 free_back "$f0" > /dev/null
    f1=$(xl_info_field free_memory)
    echo "RXEN-XL-SAVE-FAIL-FREE free_before=$f0 free_after=$f1"
    return $rc
}

# pings ADDR: one ping of ADDR answered within a second.
pings() {
    ping -c 1 -W 1 "$1" > /dev/null 2>&1
}

# answers ADDR: ok if ADDR answers a ping within 20 tries (a network
# interface reconnected after a restore takes a moment), else fail.
answers() {
    [ "$(poll 20 pings "$1")" = yes ] && echo ok || echo fail
}

# devsave: a guest booted from a PV disk, with a PV network interface,
# writing a 1 MiB file to its disk every 2 s (each synced, then reported
# with its checksum), is saved and restored, then migrated to this
# machine: after each it goes on writing (its disk reconnected) and answers
# dom0's ping (its network reconnected). Once it is destroyed another
# guest reads back every file it reported synced, and e2fsck finds the
# file system clean (after replaying its journal: the guest was destroyed
# mid-write).
#   RXEN-XL-DEVSAVE saved=<rc> restored=<rc> migrated=<rc> synced_saved=<n> synced_restored=<n> synced_migrated=<n> synced=<n> matched=<n> ping_before=ok|fail ping_restored=ok|fail ping_migrated=ok|fail fsck=<rc>
scenario_devsave() {
    local g=domu-devsave addr=10.0.0.23 saved restored migrated ns nr nm synced pb pr pm fsck=none rc=0
    make_images && bridge_up || return 1
    DOMU_MEMORY=$SAVE_MEMORY DOMU_EXTRA="root=/dev/xvda" DOMU_SETTINGS="$(root_disk_settings)
vif = [ 'bridge=xenbr0, mac=00:16:3e:52:00:0e' ]" start_domu "$g" "disk-loop=$addr,,2" || return 1
    mkdir -p "$SAVES"
    poll 180 synced_at_least "$g" 3 > /dev/null
    pb=$(answers "$addr")
    show "xl-save $g" xlr save "$g" "$SAVES/$g.img"
    saved=$?
    wait_gone "$g" > /dev/null
    ns=$(synced_count "$g")
    show "xl-restore $g" xlr restore "$SAVES/$g.img"
    restored=$?
    rm -f "$SAVES/$g.img"
    [ "$restored" = 0 ] && { attach_console "$g"; } &
    poll 60 synced_at_least "$g" $((ns + 2)) > /dev/null
    nr=$(synced_count "$g")
    pr=$(answers "$addr")
    show "xl-migrate $g" xlr migrate -s "" "$g" "xl migrate-receive"
    migrated=$?
    [ "$migrated" = 0 ] && { attach_console "$g"; } &
    poll 60 synced_at_least "$g" $((nr + 2)) > /dev/null
    nm=$(synced_count "$g")
    pm=$(answers "$addr")
    destroy_domu "$g"
    synced=$(synced_count "$g")
    DOMU_EXTRA="root=/dev/xvda" DOMU_SETTINGS="$(root_disk_settings)" run_domu check-devsave disk-read
    poll 60 only_dom0 > /dev/null
    if [ "$(loops_left)" = 0 ]; then
        e2fsck -y -E journal_only "$ROOT_IMG" < /dev/null > /dev/null 2>&1
        e2fsck -f -n "$ROOT_IMG" < /dev/null > "$WORK/devsave.fsck" 2>&1
        fsck=$?
        prefix "e2fsck: " < "$WORK/devsave.fsck"
    fi
    echo "RXEN-XL-DEVSAVE saved=$saved restored=$restored migrated=$migrated synced_saved=$ns synced_restored=$nr synced_migrated=$nm synced=$synced matched=$(matched "$g" check-devsave) ping_before=$pb ping_restored=$pr ping_migrated=$pm fsck=$fsck"
    [ "$saved" = 0 ] && [ "$restored" = 0 ] && [ "$migrated" = 0 ] || rc=1
    return $rc
}

# savebench[=MIB]: the save figures of `cargo xtask bench`: a guest of MIB
# MiB (256 by default) that only prints its line each second is saved and
# restored, each timed; then migrated to this machine, once idle so, once
# (another guest) rewriting 32 MiB of its memory every second: each
# migration's time, and the longest gap the guest saw in its own clock.
#   RXEN-SAVE-BENCH mib=<n> save_s=<s> restore_s=<s> migrate_idle_s=<s> downtime_idle_ms=<ms> migrate_busy_s=<s> downtime_busy_ms=<ms>
scenario_savebench() {
    local DOMU_MEMORY="${1:-256}" DOMU_VCPUS=1 g=bench-idle t0 t1 t2 idle rc=0
    saves_in_ram
    start_domu "$g" watch=900 && [ "$(wait_marker "$g")" = yes ] || return 1
    sleep 3
    t0=$(uptime_now)
    show "xl-save $g" xlr save "$g" "$SAVES/$g.img" || rc=1
    t1=$(uptime_now)
    wait_gone "$g" > /dev/null
    show "xl-restore $g" xlr restore "$SAVES/$g.img" || rc=1
    t2=$(uptime_now)
    rm -f "$SAVES/$g.img"
    { attach_console "$g"; } &
    sleep 3
    timed_migration "$g" || rc=1
    idle="migrate_idle_s=$MIGRATION_S downtime_idle_ms=$MIGRATION_DOWN_MS"
    destroy_domu "$g"
    start_domu bench-busy watch=900,32 && [ "$(wait_marker bench-busy)" = yes ] || return 1
    sleep 3
    timed_migration bench-busy || rc=1
    destroy_domu bench-busy
    echo "RXEN-SAVE-BENCH mib=$DOMU_MEMORY save_s=$(elapsed "$t0" "$t1") restore_s=$(elapsed "$t1" "$t2") $idle migrate_busy_s=$MIGRATION_S downtime_busy_ms=$MIGRATION_DOWN_MS"
    return $rc
}

# timed_migration NAME: xl migrate of NAME to this machine; leaves its
# time in MIGRATION_S and the guest's longest gap since in
# MIGRATION_DOWN_MS (variables, not output: the console reader it starts
# in the background would hold a command substitution open).
timed_migration() {
    local from t0 t1 rc
    from=$(watch_lines "$1")
    t0=$(uptime_now)
    show "xl-migrate $1" xlr migrate -s "" "$1" "xl migrate-receive"
    rc=$?
    t1=$(uptime_now)
    [ "$rc" = 0 ] && { attach_console "$1"; } &
    sleep 5
    MIGRATION_S=$(elapsed "$t0" "$t1")
    MIGRATION_DOWN_MS=$(max_gap "$1" "$from")
    return $rc
}
