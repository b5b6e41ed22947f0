//! The test guests' initramfs: busybox, guest-probe, the guest kernel's
//! `xen-privcmd` module and an `/init` script that does what
//! `rxen.test=ACTION` on the kernel command line asks.
//!
//! The Debian cloud kernel builds privcmd as a module
//! (`CONFIG_XEN_PRIVCMD=m`, no dependencies, not compressed); it is taken
//! out of the kernel's `.deb` (cached as
//! `target/guest-cache/<package>-modules/`) and put in the archive as
//! `/lib/modules/xen-privcmd.ko`, which `/init` loads (with
//! `unrestricted=1`, see [`INIT_SCRIPT`]) for the actions that make
//! hypercalls from user space (`/dev/xen/privcmd`).
//!
//! The archive is plain (uncompressed) newc cpio, which the kernel unpacks
//! without a decompressor, quickly even under emulation. It is cached as
//! `target/guest-cache/rxen-initramfs-<hash>.cpio`, named by the hash of its
//! contents, and rewritten only when busybox, guest-probe, the module or
//! `/init` change.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

use crate::cpio::CpioWriter;
use crate::debian::DebianKernel;
use crate::prereq::GUEST_TOOLS_TARGET;
use crate::{cargo, content_hash, guest_cache_dir, target_dir, workspace_root};

/// Debian's busybox-static puts its binary here.
const BUSYBOX: &str = "/bin/busybox";

/// Applets linked in /bin (all to busybox).
const APPLETS: &[&str] = &[
    "sh",
    "ash",
    "mount",
    "umount",
    "echo",
    "cat",
    "sleep",
    "poweroff",
    "reboot",
    "halt",
    "nproc",
    "grep",
    "sed",
    "ls",
    "dmesg",
    "mkdir",
    "uname",
    "ps",
    "head",
    "tail",
    "tr",
    "cut",
    "wc",
    "true",
    "false",
    "test",
    "[",
    "date",
    "free",
    "env",
    "sync",
    "kill",
    "ln",
    "rm",
    "cp",
    "insmod",
    "switch_root",
    "dd",
    "sha256sum",
    "stat",
    "ip",
    "nc",
    "ping",
    "awk",
    "seq",
    "mountpoint",
    "find",
    "sort",
    "basename",
    "time",
    "tee",
    "xargs",
];

/// Kernel modules the initramfs carries: (name in `/lib/modules/`, path
/// below `lib/modules/<release>/` in the kernel package).
/// Besides privcmd, the PV front-ends for disks and networks and gntalloc
/// (grants from user space, for the isolation checks), which the cloud
/// kernel builds as modules (none has dependencies).
const GUEST_MODULES: &[(&str, &str)] = &[
    ("xen-privcmd.ko", "kernel/drivers/xen/xen-privcmd.ko"),
    ("xen-blkfront.ko", "kernel/drivers/block/xen-blkfront.ko"),
    ("xen-netfront.ko", "kernel/drivers/net/xen-netfront.ko"),
    ("xen-gntalloc.ko", "kernel/drivers/xen/xen-gntalloc.ko"),
];

/// The fuzzer's run in the `fuzz` action: at most this long ...
pub const FUZZ_SECONDS: u64 = 60;
/// ... or this many hypercalls.
pub const FUZZ_CALLS: u64 = 150_000;

/// `/init`: the tests rely on its `RXEN-…` lines. `@FUZZ_SECONDS@` and
/// `@FUZZ_CALLS@` stand for [`FUZZ_SECONDS`] and [`FUZZ_CALLS`] (see
/// [`init_script`]).
///
/// `rxen.test` contains a dot, so the kernel treats it as a module parameter
/// and does not pass it to init: it is read from /proc/cmdline.
///
/// Actions: `marker` (the default), `crash`, `time`, `sleep=S`, `reboot`,
/// `reboot-if=N` (reboot when the domain id is N, else power off: a
/// restarted domain gets a new id), `nproc`, `parallel` (two spinning
/// threads: CPU time against wall time), `hotplug` (take vCPU 1 offline
/// and back), `read-input` (echo one line typed on its console),
/// `share=EPOCH,S[,N]` (CPU share over S seconds from wall-clock
/// second EPOCH, N such windows 5 s apart), `watch=S` (a counter, the
/// wall clock, MemTotal and the online CPUs every second for S seconds); `isolation` (guest-probe's isolation checks),
/// `fuzz[=SEED[,SECONDS,CALLS]]` (the hypercall fuzzer, for SECONDS or
/// CALLS calls, by default [`FUZZ_SECONDS`] and [`FUZZ_CALLS`]), `checksum=S` (S seconds of
/// memory checking); on PV devices (see the helpers in the script):
/// `disk-write=MIB`, `disk-read`, `disk-loop[=ADDR[,CRASH_AFTER[,PAUSE]]]`, `net-recv=ADDR`,
/// `net-send=ADDR,PEER,MIB`, `devwatch=S`, `disk-bench=DEV,MIB`. With `root=/dev/xvdX` on the
/// command line the initramfs mounts that disk and runs its `/init`
/// instead. Every action ends in a power-off.
pub const INIT_SCRIPT: &str = r#"#!/bin/sh
# rxen test guest init: see harness/src/initramfs.rs
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

action=marker
root=
for opt in $(cat /proc/cmdline); do
    case "$opt" in
        rxen.test=*) action="${opt#rxen.test=}" ;;
        root=/dev/*) root="${opt#root=}" ;;
    esac
done

# root=/dev/xvdX: the root file system is on a PV disk. From the initramfs
# (as Debian's own would): blkfront loaded, the disk mounted and this same
# script run again from it. From the disk: /proc/mounts shows it at /.
if [ -n "$root" ] && ! grep -q "^$root / " /proc/mounts; then
    insmod /lib/modules/xen-blkfront.ko
    for _ in $(seq 100); do [ -b "$root" ] && break; sleep 0.1; done
    mkdir -p /newroot
    if mount -t ext4 "$root" /newroot && [ -x /newroot/init ]; then
        umount /proc /sys /dev
        exec switch_root /newroot /init
    fi
    echo "RXEN-ROOT-FAILED $root"
fi

marker_line=$(/bin/guest-probe domid)
echo "$marker_line"
domid="${marker_line#*domid=}"
echo "RXEN-HYPERVISOR-TYPE $(cat /sys/hypervisor/type 2>/dev/null || echo none)"

# /dev/xen/privcmd: built in, or the module from /lib/modules.
# unrestricted=1: since XSA-482 a domU's privcmd restricts every open file
# to the domain named by the "target" Xenstore node (DOMID_IDLE, so all
# hypercalls refused, when there is none), and open() waits until Xenstore
# is up; the parameter (honoured when the kernel is not locked down) lets
# hypercalls through unrestricted, as before.
load_privcmd() {
    if [ ! -e /dev/xen/privcmd ] && [ -e /lib/modules/xen-privcmd.ko ]; then
        insmod /lib/modules/xen-privcmd.ko unrestricted=1
    fi
    if [ -e /dev/xen/privcmd ]; then
        echo "RXEN-PRIVCMD ok"
    else
        echo "RXEN-PRIVCMD missing"
    fi
}

uptime_now() {
    read -r up idle < /proc/uptime
    echo "$up"
}

sha256() {
    sha256sum "$1" | cut -c1-64
}

# The files the disk actions write, on the root disk.
DATA=/srv/rxen

# disk_report: the root device, then every file in $DATA, then each
# other disk (mounted read-only): its ro flag, its label file, and whether
# a write to it is refused (tried only on read-only ones).
disk_report() {
    echo "RXEN-ROOT $(awk '$2 == "/" { print $1, $3 }' /proc/mounts)"
    for f in $(ls "$DATA" 2>/dev/null | sort); do
        echo "RXEN-DISK-FILE name=$f bytes=$(stat -c %s "$DATA/$f") sha256=$(sha256 "$DATA/$f")"
    done
    for dev in $(ls /sys/block | grep '^xvd' | grep -v "^${root#/dev/}\$"); do
        mkdir -p "/mnt/$dev"
        mount -o ro "/dev/$dev" "/mnt/$dev" 2>/dev/null
        # Only a read-only disk is written to: the write must fail.
        write=untried
        if [ "$(cat /sys/block/$dev/ro)" = 1 ]; then
            write=refused
            dd if=/dev/zero of="/dev/$dev" bs=512 count=1 conv=fsync 2>/dev/null && write=allowed
        fi
        echo "RXEN-DISK-EXTRA dev=$dev ro=$(cat /sys/block/$dev/ro) label=$(cat /mnt/$dev/label 2>/dev/null || echo none) write=$write"
    done
}

# disk_loop: writes 1 MiB files to $DATA until the domain is destroyed,
# each line after its sync (the data the line names is on the disk).
# disk_loop [CRASH_AFTER [PAUSE]]: with CRASH_AFTER, the guest crashes
# (sysrq c) once that many files are synced, while writing the next; with
# PAUSE, it sleeps PAUSE seconds after each file (a guest that runs for
# minutes would otherwise fill its disk).
disk_loop() {
    i=0
    while :; do
        if [ -n "$1" ] && [ "$i" -ge "$1" ]; then
            dd if=/dev/urandom of="$DATA/chunk.$i" bs=64k count=16 conv=fsync 2>/dev/null &
            sleep 0.2
            echo "RXEN-DISK-CRASHING"
            echo c > /proc/sysrq-trigger
        fi
        dd if=/dev/urandom of="$DATA/chunk.$i" bs=64k count=16 2>/dev/null
        sync
        echo "RXEN-DISK-SYNCED name=chunk.$i sha256=$(sha256 "$DATA/chunk.$i")"
        i=$((i + 1))
        [ -n "$2" ] && sleep "$2"
    done
}

# net_up ADDR: eth0 (netfront) at ADDR/24, then a ping of dom0 (10.0.0.1).
net_up() {
    insmod /lib/modules/xen-netfront.ko
    for _ in $(seq 100); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
    ip addr add "$1/24" dev eth0
    ip link set eth0 up
    ip link set lo up
    net_ping 10.0.0.1
}

# net_ping ADDR: RXEN-NET-PING ADDR ok|fail (a few tries: the bridge port
# may still be coming up).
net_ping() {
    for _ in $(seq 20); do
        if ping -c 1 -W 1 "$1" > /dev/null 2>&1; then
            echo "RXEN-NET-PING $1 ok"
            return 0
        fi
        sleep 0.5
    done
    echo "RXEN-NET-PING $1 fail"
    return 1
}

# net_send FILE ADDR PORT: FILE to ADDR:PORT over TCP (tried until the
# listener is there), then RXEN-NET-SENT with the time it took.
net_send() {
    for _ in $(seq 120); do
        start=$(uptime_now)
        if nc "$2" "$3" < "$1" 2>/dev/null; then
            end=$(uptime_now)
            echo "RXEN-NET-SENT to=$2 bytes=$(stat -c %s "$1") seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')"
            return 0
        fi
        sleep 0.5
    done
    echo "RXEN-NET-SENT to=$2 failed"
}

# dev_watch SECONDS: a line each time a PV disk or network device comes or
# goes (front-ends loaded first), for SECONDS.
dev_watch() {
    insmod /lib/modules/xen-blkfront.ko
    insmod /lib/modules/xen-netfront.ko
    echo "RXEN-DEVWATCH ready"
    old=
    end=$(($(cut -d. -f1 /proc/uptime) + $1))
    while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
        now=$(ls /sys/block /sys/class/net | grep -e '^xvd' -e '^eth' | sort | tr '\n' ' ')
        for d in $now; do
            case " $old " in *" $d "*) ;; *) echo "RXEN-DEV + $d" ;; esac
        done
        for d in $old; do
            case " $now " in *" $d "*) ;; *) echo "RXEN-DEV - $d" ;; esac
        done
        old="$now"
        sleep 0.3
    done
}

case "$action" in
    marker) ;;
    crash)
        echo c > /proc/sysrq-trigger
        ;;
    time)
        echo "RXEN-UPTIME-START $(uptime_now)"
        sleep 10
        echo "RXEN-UPTIME-END $(uptime_now)"
        ;;
    sleep=*)
        sleep "${action#sleep=}"
        echo "RXEN-SLEPT"
        ;;
    reboot)
        reboot -f
        ;;
    reboot-if=*)
        if [ "$domid" = "${action#reboot-if=}" ]; then
            echo "RXEN-REBOOTING"
            reboot -f
        fi
        ;;
    parallel)
        /bin/guest-probe parallel --seconds 4
        ;;
    read-input)
        echo "RXEN-WAITING-INPUT"
        read -r line
        echo "RXEN-INPUT $line"
        ;;
    hotplug)
        echo "RXEN-HOTPLUG before=$(nproc)"
        echo 0 > /sys/devices/system/cpu/cpu1/online
        echo "RXEN-HOTPLUG offline=$(nproc)"
        echo 1 > /sys/devices/system/cpu/cpu1/online
        echo "RXEN-HOTPLUG online=$(nproc)"
        ;;
    share=*)
        # share=EPOCH,S or share=EPOCH,S,N (N windows, 5 s apart)
        IFS=, read -r start seconds windows <<EOF
${action#share=}
EOF
        /bin/guest-probe share --start "$start" --seconds "$seconds" --windows "${windows:-1}" --gap 5
        ;;
    watch=*)
        # watch=S or watch=S,MIB (a region checked and rewritten each second)
        IFS=, read -r seconds mib <<EOF
${action#watch=}
EOF
        /bin/guest-probe watch --seconds "$seconds" --mib "${mib:-0}"
        ;;
    nproc)
        echo "RXEN-NPROC $(nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo)"
        ;;
    isolation)
        load_privcmd
        insmod /lib/modules/xen-gntalloc.ko
        /bin/guest-probe isolation
        ;;
    fuzz|fuzz=*)
        seed=1 seconds=@FUZZ_SECONDS@ calls=@FUZZ_CALLS@
        case "$action" in
            fuzz=*,*,*)
                args="${action#fuzz=}"
                seed="${args%%,*}"
                args="${args#*,}"
                seconds="${args%,*}"
                calls="${args#*,}"
                ;;
            fuzz=*) seed="${action#fuzz=}" ;;
        esac
        load_privcmd
        /bin/guest-probe fuzz --seconds "$seconds" --min-calls "$calls" --seed "$seed"
        ;;
    checksum=*)
        /bin/guest-probe checksum --seconds "${action#checksum=}"
        ;;
    disk-write=*)
        mkdir -p "$DATA"
        dd if=/dev/urandom of="$DATA/data" bs=1M count="${action#disk-write=}" 2>/dev/null
        sync
        disk_report
        ;;
    disk-read)
        disk_report
        ;;
    disk-loop|disk-loop=*)
        # disk-loop[=ADDR[,CRASH_AFTER[,PAUSE]]]: with eth0 up at ADDR too,
        # if given; crashing after CRASH_AFTER files, if given; PAUSE
        # seconds after each file, if given.
        IFS=, read -r addr crash_after pause <<EOF2
${action#disk-loop}
EOF2
        addr="${addr#=}"
        [ -n "$addr" ] && net_up "$addr"
        mkdir -p "$DATA"
        disk_report
        disk_loop "$crash_after" "$pause"
        ;;
    net-recv=*)
        # net-recv=ADDR: eth0 at ADDR; one file received on port 5001.
        net_up "${action#net-recv=}"
        nc -l -p 5001 > /tmp/received
        echo "RXEN-NET-RECEIVED bytes=$(stat -c %s /tmp/received) sha256=$(sha256 /tmp/received)"
        ;;
    net-send=*)
        # net-send=ADDR,PEER,MIB: eth0 at ADDR; MIB MiB of random bytes to
        # PEER:5001, then to dom0 (10.0.0.1:5002).
        IFS=, read -r addr peer mib <<EOF2
${action#net-send=}
EOF2
        net_up "$addr"
        net_ping "$peer"
        dd if=/dev/urandom of=/tmp/blob bs=1M count="$mib" 2>/dev/null
        echo "RXEN-NET-BLOB bytes=$(stat -c %s /tmp/blob) sha256=$(sha256 /tmp/blob)"
        net_send /tmp/blob "$peer" 5001
        net_send /tmp/blob 10.0.0.1 5002
        ;;
    devwatch=*)
        dev_watch "${action#devwatch=}"
        ;;
    disk-bench=*)
        # disk-bench=DEV,MIB: MIB MiB written to and read from /dev/DEV
        # with direct I/O (no page cache), each timed.
        IFS=, read -r dev mib <<EOF2
${action#disk-bench=}
EOF2
        insmod /lib/modules/xen-blkfront.ko
        for _ in $(seq 100); do [ -b "/dev/$dev" ] && break; sleep 0.1; done
        start=$(uptime_now)
        dd if=/dev/zero of="/dev/$dev" bs=1M count="$mib" oflag=direct 2>/dev/null
        mid=$(uptime_now)
        dd if="/dev/$dev" of=/dev/null bs=1M count="$mib" iflag=direct 2>/dev/null
        end=$(uptime_now)
        echo "RXEN-DISK-BENCH dev=$dev mib=$mib write_seconds=$(awk -v a="$start" -v b="$mid" 'BEGIN { printf "%.2f", b - a }') read_seconds=$(awk -v a="$mid" -v b="$end" 'BEGIN { printf "%.2f", b - a }')"
        ;;
    *)
        echo "RXEN-UNKNOWN-TEST"
        ;;
esac

# A guest under dom0 speaks through xenconsoled, which may not copy out
# what is still in the console ring when the domain goes: the last lines
# of an action (its verdict) get a moment. (Not for the marker, which
# the boot benchmarks time to the power-off.)
[ "$action" = marker ] || sleep 1
poweroff -f
# Only reached if the power-off failed: init must not exit (that panics).
echo "RXEN-POWEROFF-FAILED"
while true; do sleep 1000; done
"#;

/// [`INIT_SCRIPT`] with its placeholders filled in.
pub fn init_script() -> String {
    INIT_SCRIPT
        .replace("@FUZZ_SECONDS@", &FUZZ_SECONDS.to_string())
        .replace("@FUZZ_CALLS@", &FUZZ_CALLS.to_string())
}

/// Builds (or finds cached) the initramfs for `kernel` (whose modules it
/// carries) and returns its path.
pub fn build_initramfs(kernel: &DebianKernel) -> Result<PathBuf> {
    let busybox = read_static_busybox()?;
    let probe_path = build_guest_probe()?;
    let probe =
        fs::read(&probe_path).with_context(|| format!("reading {}", probe_path.display()))?;
    let modules = guest_modules(kernel)?;
    let archive = initramfs_archive(&busybox, &probe, &modules);
    let path = guest_cache_dir().join(format!(
        "rxen-initramfs-{:016x}.cpio",
        content_hash(&archive)
    ));
    if path.is_file() {
        return Ok(path);
    }
    eprintln!(
        "xtask: writing the guest initramfs {} ({} KiB) ...",
        path.display(),
        archive.len() / 1024
    );
    write_replacing_old_archives(&path, &archive)?;
    Ok(path)
}

/// The archive: directories, busybox and its applet links, guest-probe,
/// kernel modules, a /dev/console node (for the kernel's first console,
/// before devtmpfs) and /init.
fn initramfs_archive(busybox: &[u8], probe: &[u8], modules: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut cpio = CpioWriter::new();
    for dir in [
        "bin",
        "dev",
        "proc",
        "sys",
        "tmp",
        "etc",
        "root",
        "lib",
        "lib/modules",
    ] {
        cpio.dir(dir, 0o755);
    }
    for (name, bytes) in modules {
        cpio.file(&format!("lib/modules/{name}"), 0o644, bytes);
    }
    cpio.char_dev("dev/console", 0o600, 5, 1);
    cpio.file("bin/busybox", 0o755, busybox);
    for applet in APPLETS {
        cpio.symlink(&format!("bin/{applet}"), "busybox");
    }
    cpio.file("bin/guest-probe", 0o755, probe);
    cpio.file("init", 0o755, init_script().as_bytes());
    cpio.finish()
}

/// The [`GUEST_MODULES`] of `kernel`, as (name, contents); extracted from
/// its `.deb` once and cached.
fn guest_modules(kernel: &DebianKernel) -> Result<Vec<(String, Vec<u8>)>> {
    let release = kernel_release(&kernel.package)?;
    let dir = guest_cache_dir().join(format!("{}-modules", kernel.package));
    let mut modules = Vec::new();
    for (name, in_package) in GUEST_MODULES {
        let cached = dir.join(name);
        if !cached.is_file() {
            eprintln!(
                "xtask: extracting {in_package} from {} into {} ...",
                kernel.deb.display(),
                dir.display()
            );
            extract_module(&kernel.deb, release, in_package, &cached)?;
        }
        let bytes = fs::read(&cached).with_context(|| format!("reading {}", cached.display()))?;
        modules.push(((*name).to_owned(), bytes));
    }
    Ok(modules)
}

/// `linux-image-6.1.0-28-cloud-amd64` → `6.1.0-28-cloud-amd64`.
fn kernel_release(package: &str) -> Result<&str> {
    package
        .strip_prefix("linux-image-")
        .filter(|r| !r.is_empty())
        .with_context(|| format!("{package} is not a linux-image-<release> package"))
}

/// Extracts `lib/modules/<release>/<in_package>` (or its `.xz`/`.zst`/`.gz`
/// form, decompressed: busybox's insmod may not read those) from `deb`
/// into `into`, through a scratch directory so that an interrupted run
/// leaves nothing that looks finished.
fn extract_module(deb: &Path, release: &str, in_package: &str, into: &Path) -> Result<()> {
    let dir = into.parent().expect("a file in the cache");
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let scratch = dir.join(format!("unpacking-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    // `./lib/modules/…` in bookworm's packages, `./usr/lib/modules/…` after
    // the /usr merge: a wildcard takes either.
    let pattern = format!("*/modules/{release}/{in_package}*");
    crate::debian::extract_from_deb(deb, &scratch, &pattern, true)?;
    let found =
        find_file(&scratch)?.with_context(|| format!("{} has no {pattern}", deb.display()))?;
    let name = found.to_string_lossy().into_owned();
    let bytes = if let Some(tool) = [(".xz", "xz"), (".zst", "zstd"), (".gz", "gzip")]
        .iter()
        .find_map(|(ext, tool)| name.ends_with(ext).then_some(*tool))
    {
        let out = Command::new(tool)
            .args(["-d", "-c"])
            .arg(&found)
            .output()
            .with_context(|| format!("running {tool} to decompress {name}"))?;
        ensure!(
            out.status.success(),
            "{tool} -d {name} failed ({})",
            out.status
        );
        out.stdout
    } else {
        fs::read(&found).with_context(|| format!("reading {name}"))?
    };
    ensure!(
        bytes.starts_with(b"\x7fELF"),
        "{name} is not an ELF kernel module"
    );
    let tmp = into.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, into).with_context(|| format!("renaming to {}", into.display()))?;
    let _ = fs::remove_dir_all(&scratch);
    Ok(())
}

/// The one regular file under `dir`, if any.
fn find_file(dir: &Path) -> Result<Option<PathBuf>> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path)? {
                return Ok(Some(found));
            }
        } else if path.is_file() {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// Writes `path` (through a temporary file) and removes older archives.
fn write_replacing_old_archives(path: &Path, archive: &[u8]) -> Result<()> {
    let dir = path.parent().expect("a file in the cache");
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for entry in fs::read_dir(dir)? {
        let old = entry?.path();
        let name = old.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("rxen-initramfs-") && name.ends_with(".cpio") {
            let _ = fs::remove_file(&old);
        }
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, archive).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

/// Reads /bin/busybox and checks that it is statically linked (a dynamic
/// one would find no libc in the initramfs).
fn read_static_busybox() -> Result<Vec<u8>> {
    let busybox = fs::read(BUSYBOX)
        .with_context(|| format!("reading {BUSYBOX}: install Debian's busybox-static"))?;
    match elf_has_interpreter(&busybox) {
        Some(false) => Ok(busybox),
        Some(true) => bail!("{BUSYBOX} is dynamically linked: install Debian's busybox-static"),
        None => bail!("{BUSYBOX} is not a 64-bit ELF executable"),
    }
}

/// Whether a 64-bit little-endian ELF has a PT_INTERP program header
/// (that is, needs a dynamic loader); `None` if it is no such ELF.
fn elf_has_interpreter(elf: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" || elf[4] != 2 || elf[5] != 1 {
        return None;
    }
    let u16_at = |at: usize| Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?));
    let phoff = usize::try_from(u64::from_le_bytes(elf[32..40].try_into().ok()?)).ok()?;
    let (phentsize, phnum) = (usize::from(u16_at(54)?), usize::from(u16_at(56)?));
    for i in 0..phnum {
        let at = phoff.checked_add(i.checked_mul(phentsize)?)?;
        let p_type = u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?);
        if p_type == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

/// Builds `tools/guest-probe` as a static musl binary and returns its path.
///
/// `RUSTFLAGS` is removed for the same reason as for the hypervisor: it
/// would also change (and rebuild) everything else. The binary is stripped.
pub fn build_guest_probe() -> Result<PathBuf> {
    eprintln!("xtask: building guest-probe (cargo build --release -p rxen-guest-probe --target {GUEST_TOOLS_TARGET}) ...");
    let status = cargo()
        .current_dir(workspace_root())
        .args([
            "build",
            "--release",
            "-p",
            "rxen-guest-probe",
            "--target",
            GUEST_TOOLS_TARGET,
        ])
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        // The workspace's release profile keeps debug info (for the
        // hypervisor's stack traces); in the initramfs it is dead weight.
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true")
        .status()
        .context("running cargo")?;
    ensure!(
        status.success(),
        "cargo build -p rxen-guest-probe failed ({status})"
    );
    let binary = target_dir()
        .join(GUEST_TOOLS_TARGET)
        .join("release")
        .join("guest-probe");
    ensure!(
        binary.is_file(),
        "cargo succeeded but {} is missing",
        binary.display()
    );
    ensure!(
        elf_has_interpreter(&fs::read(&binary)?) == Some(false),
        "{} is not a static executable",
        binary.display()
    );
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_script_markers() {
        for needle in [
            "mount -t devtmpfs",
            "rxen.test=*",
            "/bin/guest-probe domid",
            "RXEN-HYPERVISOR-TYPE $(cat /sys/hypervisor/type",
            "echo c > /proc/sysrq-trigger",
            "RXEN-UPTIME-START",
            "RXEN-UPTIME-END",
            "RXEN-SLEPT",
            "RXEN-NPROC",
            "RXEN-UNKNOWN-TEST",
            "poweroff -f",
            "insmod /lib/modules/xen-privcmd.ko unrestricted=1",
            "RXEN-PRIVCMD",
            "/bin/guest-probe isolation",
            "seed=1 seconds=60 calls=150000",
            "/bin/guest-probe fuzz --seconds \"$seconds\" --min-calls \"$calls\" --seed \"$seed\"",
            "/bin/guest-probe checksum --seconds",
        ] {
            assert!(init_script().contains(needle), "{needle}");
        }
        assert!(init_script().starts_with("#!/bin/sh\n"));
        assert!(!init_script().contains('@'));
    }

    #[test]
    fn release_of_the_package() {
        assert_eq!(
            kernel_release("linux-image-6.1.0-28-cloud-amd64").unwrap(),
            "6.1.0-28-cloud-amd64"
        );
        assert!(kernel_release("busybox").is_err());
        assert!(kernel_release("linux-image-").is_err());
    }

    #[test]
    fn archive_is_deterministic_and_has_init() {
        let modules = [("m.ko".to_owned(), b"\x7fELF".to_vec())];
        let a = initramfs_archive(b"busybox", b"probe", &modules);
        assert_eq!(a, initramfs_archive(b"busybox", b"probe", &modules));
        assert!(a.windows(5).any(|w| w == b"init\0"));
        assert!(a.windows(16).any(|w| w == b"lib/modules/m.ko"));
        assert_ne!(
            content_hash(&a),
            content_hash(&initramfs_archive(b"busybox2", b"probe", &modules))
        );
        assert_ne!(
            content_hash(&a),
            content_hash(&initramfs_archive(b"busybox", b"probe", &[]))
        );
    }

    #[test]
    fn static_and_dynamic_elves() {
        // A minimal ELF64 header with one program header of type `p_type`.
        let elf = |p_type: u32| {
            let mut e = vec![0u8; 64 + 56];
            e[..6].copy_from_slice(b"\x7fELF\x02\x01");
            e[32..40].copy_from_slice(&64u64.to_le_bytes());
            e[54..56].copy_from_slice(&56u16.to_le_bytes());
            e[56..58].copy_from_slice(&1u16.to_le_bytes());
            e[64..68].copy_from_slice(&p_type.to_le_bytes());
            e
        };
        assert_eq!(elf_has_interpreter(&elf(1)), Some(false));
        assert_eq!(elf_has_interpreter(&elf(3)), Some(true));
        assert_eq!(elf_has_interpreter(b"#!/bin/sh"), None);
    }
}
