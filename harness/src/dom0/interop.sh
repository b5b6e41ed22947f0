
# ---- Save images between Xen and rxen (appended to scenarios.sh) ----
#
# One boot saves a guest and prints the image (export); a boot of the
# other hypervisor finds it in its initramfs and restores it (import).
# The guest runs guest-probe watch with a small region (the image crosses
# the serial line; 128 MiB: in 64 MiB libxenguest has no room for the
# initramfs after the kernel). Lines for the tests:
#   RXEN-XL-EXPORT saved=<rc> exported=<rc> before=<count> wall=<s> mismatches=<m at the save> bytes=<image size> sha256=<image>
#   RXEN-EXPORT-BEGIN name=<file> / RXEN-EXPORT <line number> <base64> / RXEN-EXPORT-END lines=<n>
#   RXEN-EXPORT-DISK name=<file> bytes=<n> (export=disk: the file is at the disk's start)
#   RXEN-XL-IMPORT found=yes|no sha256=<image> restored=<rc> after=<count> wall=<s> cpus=<n> first_mismatches=<m at its first tick> mismatches=<m> domid=<id>

# Where the harness puts the image to import (gzip-compressed).
IMPORTS=/var/lib/xen/import
INTEROP_DOMU=domu-moved
INTEROP_REGION_MIB=2
INTEROP_MEMORY=128

# saves_in_ram: $SAVES on a file system of its own, in RAM: the root file
# system (at most half of dom0's 512 MiB) has no room for a 128 MiB
# guest's image beside the initramfs's files and a compressed copy.
saves_in_ram() {
    mkdir -p "$SAVES"
    grep -q " $SAVES " /proc/mounts || mount -t tmpfs -o size=320m tmpfs "$SAVES"
}

# export_file FILE: FILE gzip-compressed, in base64, on the console: one
# numbered line each, flushed line by line so that no other writer's
# output lands inside one; the harness puts the lines back together.
export_file() {
    local packed="$1.gz"
    if ! gzip -c "$1" > "$packed"; then
        rm -f "$packed"
        return 1
    fi
    echo "RXEN-EXPORT-BEGIN name=$(basename "$packed") bytes=$(stat -c %s "$packed")"
    base64 "$packed" | awk '{ print "RXEN-EXPORT " NR " " $0; fflush() } END { print "RXEN-EXPORT-END lines=" NR }'
    rm -f "$packed"
}

# export_to_disk FILE: FILE gzip-compressed at the start of the first SATA
# disk, its size on the console (RXEN-EXPORT-DISK). For Xen's dom0, which
# has QEMU's AHCI controller: Xen's console is too slow for the image
# when synchronous (about 40 KiB/s) and drops characters when not.
export_to_disk() {
    local packed="$1.gz" disk=/dev/sda rc=0
    gzip -c "$1" > "$packed" || rc=1
    [ "$(poll 20 test -b "$disk")" = yes ] || rc=1
    [ "$rc" = 0 ] && dd if="$packed" of="$disk" bs=1M conv=fsync 2> /dev/null || rc=1
    [ "$rc" = 0 ] && echo "RXEN-EXPORT-DISK name=$(basename "$packed") bytes=$(stat -c %s "$packed")"
    rm -f "$packed"
    return $rc
}

# export[=disk]: a domU counting with its region is saved, and the image
# printed (export_file) or written to the disk (export_to_disk) for
# another hypervisor's boot to import.
scenario_export() {
    local name=$INTEROP_DOMU SAVE_MEMORY=$INTEROP_MEMORY SAVE_REGION_MIB=$INTEROP_REGION_MIB
    local before ob saved mism img exported
    img="$SAVES/$name.img"
    saves_in_ram
    save_domu "$name" 1 || return 1
    before=$(watch_field "$name" n)
    ob=$(wall_offset "$name")
    show "xl-save $name" xlr save "$name" "$img"
    saved=$?
    wait_gone "$name" > /dev/null
    wait
    # Its count of changed words when it was saved: the last it printed.
    mism=$(watch_field "$name" mismatches)
    exported=1
    if [ "$1" = disk ]; then
        [ "$saved" = 0 ] && export_to_disk "$img" && exported=0
    else
        [ "$saved" = 0 ] && export_file "$img" && exported=0
    fi
    echo "RXEN-XL-EXPORT saved=$saved exported=$exported before=$before wall=$ob mismatches=$mism bytes=$(stat -c %s "$img" 2> /dev/null) sha256=$(image_sha "$img")"
    rm -f "$img"
    [ "$exported" = 0 ]
}

# image_sha FILE: its SHA-256 (none if it is not there).
image_sha() {
    [ -f "$1" ] && sha256sum "$1" | cut -d ' ' -f 1
}

# import: restores the image another hypervisor's export wrote: the guest
# counts on from where it was, its region intact, its clock right, its
# console working, in a domain of this one.
scenario_import() {
    local name=$INTEROP_DOMU packed="$IMPORTS/$INTEROP_DOMU.img.gz" img found=no sha restored=1 after oa d
    img="$SAVES/$name.img"
    saves_in_ram
    [ -f "$packed" ] && gunzip -c "$packed" > "$img" && found=yes
    rm -f "$packed"
    sha=$(image_sha "$img")
    if [ "$found" = yes ]; then
        domu_reset "$name"
        show "xl-restore $name" xlr restore "$img"
        restored=$?
    fi
    rm -f "$img"
    if [ "$restored" = 0 ]; then
        { attach_console "$name"; } &
        sleep 8
    fi
    after=$(watch_field "$name" n)
    oa=$(wall_offset "$name")
    d=$(xlr domid "$name" 2> /dev/null)
    echo "RXEN-XL-IMPORT found=$found sha256=$sha restored=$restored after=$after wall=$oa cpus=$(watch_field "$name" cpus) first_mismatches=$(first_watch_field "$name" mismatches) mismatches=$(watch_field "$name" mismatches) domid=$d"
    [ "$restored" = 0 ] && destroy_domu "$name"
    # Restored and counting (a guest that died on resume prints no line).
    [ "$restored" = 0 ] && [ -n "$after" ]
}
