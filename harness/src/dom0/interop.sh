
# ---- Save images between Xen and rxen (appended to scenarios.sh) ----
#
# One boot saves a guest and leaves the image in its RAM (export); a boot
# of the other hypervisor finds it in its initramfs and restores it
# (import). The guest runs guest-probe watch with a small region, in
# 128 MiB (in 64 MiB libxenguest has no room for the initramfs after the
# kernel). Lines for the tests:
#   RXEN-XL-EXPORT saved=<rc> exported=<rc> before=<count> wall=<s> mismatches=<m at the save> bytes=<image size> sha256=<image>
#   RXEN-EXPORT-RAM name=<file> id=<hex> frames=<n> bytes=<n> (the image, in page frames)
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

# export_to_ram FILE: FILE gzip-compressed, in page frames on a tmpfs
# (guest-probe ram-export, which prints RXEN-EXPORT-RAM) kept until the
# machine powers off: the harness finds them in QEMU's RAM file. Neither
# dom0 has a disk of its own, and a serial console takes minutes for an
# image (Xen's drops characters when it is not slower still).
export_to_ram() {
    local packed="$1.gz" rc=0
    gzip -1 -c "$1" > "$packed" || rc=1
    [ "$rc" = 0 ] && guest-probe ram-export "$packed" "$SAVES/export.frames" || rc=1
    rm -f "$packed"
    return $rc
}

# export: a domU counting with its region is saved, and the image left in
# RAM (export_to_ram) for another hypervisor's boot to import.
scenario_export() {
    local name=$INTEROP_DOMU SAVE_MEMORY=$INTEROP_MEMORY SAVE_REGION_MIB=$INTEROP_REGION_MIB
    local before ob saved mism img exported
    img="$SAVES/$name.img"
    saves_in_ram
    save_domu "$name" 1 || return 1
    before=$(tries watch_field "$name" n)
    ob=$(tries wall_offset "$name")
    show "xl-save $name" xlr save "$name" "$img"
    saved=$?
    wait_gone "$name" > /dev/null
    wait
    # Its count of changed words when it was saved: the last it printed.
    mism=$(tries watch_field "$name" mismatches)
    [ -n "$before" ] && [ -n "$ob" ] && [ -n "$mism" ] || saved=1
    exported=1
    [ "$saved" = 0 ] && export_to_ram "$img" && exported=0
    echo "RXEN-XL-EXPORT saved=$saved exported=$exported before=$before wall=$ob mismatches=$mism bytes=$(stat -c %s "$img" 2> /dev/null) sha256=$(image_sha "$img")"
    rm -f "$img"
    [ "$exported" = 0 ]
}

# tries CMD...: CMD's output, run again (three times in all) while it
# fails or prints nothing: under Xen in this QEMU, dom0's processes die
# now and then (qemu-svm.md), and a reading lost that way is no answer.
tries() {
    local out n
    for n in 1 2 3; do
        out=$("$@") && [ -n "$out" ] && break
    done
    echo "$out"
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
    after=$(tries watch_field "$name" n)
    oa=$(tries wall_offset "$name")
    d=$(xlr domid "$name" 2> /dev/null)
    echo "RXEN-XL-IMPORT found=$found sha256=$sha restored=$restored after=$after wall=$oa cpus=$(tries watch_field "$name" cpus) first_mismatches=$(tries first_watch_field "$name" mismatches) mismatches=$(tries watch_field "$name" mismatches) domid=$d"
    [ "$restored" = 0 ] && destroy_domu "$name"
    # Restored and counting (a guest that died on resume prints no line).
    [ "$restored" = 0 ] && [ -n "$after" ]
}
