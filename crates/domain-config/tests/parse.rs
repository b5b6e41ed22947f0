//! Typed parsing: `parse` into `DomainConfig`.

use rxen_domain_config::{
    parse, Action, ConfigError, CpuSet, DomainKind, ErrorKind, DEFAULT_MEMORY_MIB,
};

fn ok(text: &str) -> rxen_domain_config::DomainConfig {
    parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> ConfigError {
    match parse(text) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

const MIN: &str = "name = \"g\"\nkernel = \"/k\"\n";

/// `MIN` plus `extra` lines; `extra` starts on line 3.
fn with(extra: &str) -> String {
    format!("{MIN}{extra}")
}

/// Like the PVH example Xen ships (`xlexample.pvhlinux`), rewritten.
const PVH_EXAMPLE: &str = r#"# =====================================================================
# Example PVH guest configuration
# =====================================================================

# Guest name
name = "example.pvh"

# 128-bit UUID for the domain; rxen does not use it yet
uuid = "e5ab1c62-2bd6-4f27-9b9e-1a3cf2c8f3a1"

type = "pvh"

# Kernel image to boot
kernel = "/boot/vmlinuz-6.1.0-amd64"

# Ramdisk (optional)
ramdisk = "/boot/initrd.img-6.1.0-amd64"

# Kernel command line options
extra = "console=hvc0 earlyprintk=xen"
root = "/dev/xvda1 ro"

# Initial memory allocation (MB)
memory = 1024

# Maximum memory (MB)
maxmem = 2048

# Number of VCPUS
vcpus = 2
maxvcpus = 4

on_poweroff = "destroy"
on_reboot   = "restart"
on_crash    = "coredump-restart"

cpus = "0-3,^2"
cpu_weight = 512
cap = 150

# Network devices
vif = [ 'bridge=xenbr0' ]

# Disk devices
disk = [ '/dev/vg/guest-volume,raw,xvda,rw' ]
"#;

#[test]
fn xen_style_pvh_example() {
    let c = ok(PVH_EXAMPLE);
    assert_eq!(c.name, "example.pvh");
    assert_eq!(c.kind, DomainKind::Pvh);
    assert_eq!(c.kernel, "/boot/vmlinuz-6.1.0-amd64");
    assert_eq!(c.ramdisk.as_deref(), Some("/boot/initrd.img-6.1.0-amd64"));
    assert_eq!(c.cmdline, "root=/dev/xvda1 ro console=hvc0 earlyprintk=xen");
    assert_eq!(c.memory_mib, 1024);
    assert_eq!(c.maxmem_mib, Some(2048));
    assert_eq!(c.max_memory_mib(), 2048);
    assert_eq!(c.vcpus, 2);
    assert_eq!(c.maxvcpus, Some(4));
    assert_eq!(c.max_vcpus(), 4);
    assert_eq!(c.on_poweroff, Action::Destroy);
    assert_eq!(c.on_reboot, Action::Restart);
    assert_eq!(c.on_crash, Action::CoredumpRestart);
    assert_eq!(
        c.cpus.map(|s| s.iter().collect::<Vec<_>>()),
        Some(vec![0, 1, 3])
    );
    assert_eq!(c.weight, Some(512));
    assert_eq!(c.cap, Some(150));
    let w: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        vec![
            "line 9: `uuid` is unknown or not supported by rxen yet; ignored",
            "line 42: `vif` is unknown or not supported by rxen yet; ignored",
            "line 45: `disk` is unknown or not supported by rxen yet; ignored",
        ]
    );
}

#[test]
fn defaults_follow_xl() {
    let c = ok(MIN);
    assert_eq!(c.kind, DomainKind::Pvh);
    assert_eq!(c.ramdisk, None);
    assert_eq!(c.cmdline, "");
    assert_eq!(c.memory_mib, DEFAULT_MEMORY_MIB);
    assert_eq!(c.memory_mib, 32);
    assert_eq!(c.maxmem_mib, None);
    assert_eq!(c.vcpus, 1);
    assert_eq!(c.maxvcpus, None);
    assert_eq!(
        (c.on_poweroff, c.on_reboot, c.on_crash),
        (Action::Destroy, Action::Restart, Action::Destroy)
    );
    assert_eq!((c.weight, c.cap, c.cpus), (None, None, None));
    assert!(c.warnings.is_empty());
}

#[test]
fn memory_defaults_to_maxmem_like_libxl() {
    let c = ok(&with("maxmem = 256\n"));
    assert_eq!(c.memory_mib, 256);
    assert_eq!(c.maxmem_mib, Some(256));
}

#[test]
fn cmdline_forms() {
    assert_eq!(ok(&with("root = '/dev/xvda'\n")).cmdline, "root=/dev/xvda");
    assert_eq!(ok(&with("extra = 'quiet'\n")).cmdline, "quiet");
    assert_eq!(
        ok(&with("extra = 'quiet'\nroot = '/dev/xvda'\n")).cmdline,
        "root=/dev/xvda quiet"
    );
    let c = ok(&with(
        "root = '/dev/xvda'\ncmdline = 'console=hvc0'\nextra = 'x'\n",
    ));
    assert_eq!(c.cmdline, "console=hvc0");
    assert_eq!(
        c.warnings[0].to_string(),
        "line 4: `root` and `extra` are ignored in favour of `cmdline`"
    );
    // `+=` builds up a command line.
    assert_eq!(ok(&with("extra = 'a'\nextra += ' b'\n")).cmdline, "a b");
}

#[test]
fn last_setting_wins_with_a_warning() {
    let c = ok(&with("memory = 128\nmemory = 256\n"));
    assert_eq!(c.memory_mib, 256);
    assert_eq!(
        c.warnings[0].to_string(),
        "line 4: `memory` is set again (also on line 3); the last setting wins"
    );
    // A bad early value is overridden, as in xl (only the last one is read).
    assert_eq!(ok(&with("memory = 'lots'\nmemory = 64\n")).memory_mib, 64);
    // `+=` is not a duplicate.
    assert!(ok(&with("extra = 'a'\nextra += 'b'\n")).warnings.is_empty());
}

#[test]
fn numbers_as_strings_octal_and_hex() {
    let c = ok(&with("memory = \"512\"\nvcpus = 0x4\nmaxvcpus = 010\n"));
    assert_eq!((c.memory_mib, c.vcpus, c.maxvcpus), (512, 4, Some(8)));
}

#[test]
fn actions_by_xl_name() {
    for (name, action) in [
        ("destroy", Action::Destroy),
        ("restart", Action::Restart),
        ("preserve", Action::Preserve),
        ("rename-restart", Action::RenameRestart),
        ("coredump-destroy", Action::CoredumpDestroy),
        ("coredump-restart", Action::CoredumpRestart),
        ("soft-reset", Action::SoftReset),
    ] {
        let c = ok(&with(&format!(
            "on_poweroff = '{name}'\non_reboot = '{name}'\non_crash = '{name}'\n"
        )));
        assert_eq!(
            (c.on_poweroff, c.on_reboot, c.on_crash),
            (action, action, action)
        );
        assert_eq!(action.to_string(), name);
        assert_eq!(Action::from_name(name), Some(action));
    }
}

#[test]
fn cpus_forms() {
    let set = |spec: &str| ok(&with(&format!("cpus = {spec}\n"))).cpus.unwrap();
    assert!(set("'all'").is_all());
    assert_eq!(set("'all,^0'").len(), rxen_domain_config::MAX_CPUS - 1);
    assert!(!set("'all,^0'").contains(0));
    assert_eq!(set("'0-3,5'").to_string(), "0-3,5");
    assert_eq!(set("' 1 , 3-4 ,,'").to_string(), "1,3-4");
    assert_eq!(set("'^1,0-2'").to_string(), "0-2");
    assert_eq!(set("'0-7,^2-3,^6'").to_string(), "0-1,4-5,7");
    assert_eq!(set("'1023'").to_string(), "1023");
    assert_eq!(set("3").to_string(), "3");
    assert_eq!(set("\"5\"").to_string(), "5");
    assert_eq!(
        CpuSet::parse("^all"),
        Err("`^all`: \"^\" and \"all\" cannot be combined".into())
    );
    assert_eq!(
        format!("{:?}", CpuSet::parse("2-3").unwrap()),
        "CpuSet(\"2-3\")"
    );
    assert!(CpuSet::parse("").unwrap().is_empty());
}

#[test]
fn unknown_key_hints() {
    let c = ok(&with("weight = 5\ninitrd = '/i'\nbootloader = 'pygrub'\n"));
    let w: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        vec![
            "line 3: `weight` is unknown or not supported by rxen yet; ignored; did you mean `cpu_weight`?",
            "line 4: `initrd` is unknown or not supported by rxen yet; ignored; did you mean `ramdisk`?",
            "line 5: `bootloader` is unknown or not supported by rxen yet; ignored; rxen boots kernels directly: use `kernel`",
        ]
    );
}

#[test]
fn crlf_file_parses() {
    let text = PVH_EXAMPLE.replace('\n', "\r\n");
    assert_eq!(ok(&text), ok(PVH_EXAMPLE));
}

#[test]
fn missing_required_keys() {
    let e = err("kernel = '/k'\n");
    assert_eq!((e.line, e.kind), (0, ErrorKind::Missing));
    assert_eq!(e.to_string(), "no name given: add name = \"<domain name>\"");
    let e = err("name = 'g'\n");
    assert_eq!((e.line, e.kind), (0, ErrorKind::Missing));
    assert_eq!(
        e.to_string(),
        "no kernel given: add kernel = \"/path/to/vmlinuz\""
    );
    assert_eq!(
        err("").to_string(),
        "no name given: add name = \"<domain name>\""
    );
}

#[test]
fn unsupported_types() {
    let e = err(&with("\ntype = \"hvm\"\n"));
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert_eq!(
        e.to_string(),
        "line 4: type = \"hvm\": HVM guests are not supported by rxen yet; use type = \"pvh\""
    );
    assert_eq!(
        err(&with("type = 'pv'\n")).to_string(),
        "line 3: type = \"pv\": PV guests are not supported by rxen yet; use type = \"pvh\""
    );
    assert_eq!(
        err(&with("builder = 'generic'\n")).to_string(),
        "line 3: builder = \"generic\": PV guests are not supported by rxen yet; use type = \"pvh\""
    );
    assert_eq!(
        err(&with("cpus = ['0', '1']\n")).to_string(),
        "line 3: cpus = [\"0\", \"1\"]: per-vCPU affinity lists are not supported yet; give one set for all vCPUs, e.g. cpus = \"0-3\""
    );
    assert_eq!(
        err(&with("cpus = 'nodes:0'\n")).to_string(),
        "line 3: cpus = \"nodes:0\": `nodes:0`: NUMA node selections are not supported yet; list CPU numbers"
    );
}

#[test]
fn value_errors_with_line_numbers() {
    let cases: &[(&str, &str)] = &[
        ("memory = \"lots\"", "line 3: memory = \"lots\": expected a number of MiB"),
        ("memory = 0", "line 3: memory = 0: must be between 1 and 1048576 MiB (1 TiB)"),
        ("memory = 1048577", "line 3: memory = 1048577: must be between 1 and 1048576 MiB (1 TiB)"),
        ("memory = [512]", "line 3: memory = [512]: expected a number of MiB"),
        ("maxmem = 'x'", "line 3: maxmem = \"x\": expected a number of MiB"),
        ("memory = 512\nmaxmem = 256", "line 4: maxmem = 256: must be at least memory (512 MiB)"),
        ("vcpus = 0", "line 3: vcpus = 0: must be between 1 and 128"),
        ("vcpus = 129", "line 3: vcpus = 129: must be between 1 and 128"),
        ("vcpus = 'two'", "line 3: vcpus = \"two\": expected a number of vCPUs"),
        ("maxvcpus = 200", "line 3: maxvcpus = 200: must be between 1 and 128"),
        ("vcpus = 4\nmaxvcpus = 2", "line 4: maxvcpus = 2: must be at least vcpus (4)"),
        ("cpu_weight = 0", "line 3: cpu_weight = 0: must be between 1 and 65535"),
        ("cpu_weight = 65536", "line 3: cpu_weight = 65536: must be between 1 and 65535"),
        ("cap = 12801", "line 3: cap = 12801: must be between 0 and 12800 (percent of one CPU)"),
        ("cap = 'half'", "line 3: cap = \"half\": expected a percentage of one CPU"),
        ("on_crash = 'reboot'", "line 3: on_crash = \"reboot\": expected \"destroy\", \"restart\", \"preserve\", \"rename-restart\", \"coredump-destroy\", \"coredump-restart\" or \"soft-reset\""),
        ("on_reboot = 1", "line 3: on_reboot = 1: expected an action in quotes, e.g. on_reboot = \"1\""),
        ("type = 'kvm'", "line 3: type = \"kvm\": expected \"pvh\", \"hvm\" or \"pv\""),
        ("type = 'pvh'\nbuilder = 'hvm'", "line 4: builder = \"hvm\": contradicts `type`; remove `builder`"),
        ("builder = 'linux'", "line 3: builder = \"linux\": expected \"hvm\" or \"generic\" (better: use type = \"pvh\")"),
        ("ramdisk = ''", "line 3: ramdisk = \"\": expected a path, not an empty string"),
        ("cmdline = ['a']", "line 3: cmdline = [\"a\"]: expected a kernel command line (one quoted string), not a list"),
        ("root = 5", "line 3: root = 5: expected a root device in quotes, e.g. root = \"5\""),
        ("cpus = '0-3,x'", "line 3: cpus = \"0-3,x\": `x` is not a CPU number, a range `N-M` or `all`"),
        ("cpus = '3-1'", "line 3: cpus = \"3-1\": `3-1`: the range ends before it starts"),
        ("cpus = '1024'", "line 3: cpus = \"1024\": `1024`: CPU 1024 is out of range (CPUs are numbered 0 to 1023)"),
        ("cpus = 5000", "line 3: cpus = 5000: CPUs are numbered 0 to 1023"),
        ("cpus = '^1'", "line 3: cpus = \"^1\": selects no CPU (to exclude CPUs, start from all: \"all,^1\")"),
        ("cpus = ''", "line 3: cpus = \"\": selects no CPU (to exclude CPUs, start from all: \"all,^1\")"),
        ("cpus = '-'", "line 3: cpus = \"-\": `-` is not a CPU number, a range `N-M` or `all`"),
    ];
    for (extra, want) in cases {
        let e = err(&with(&format!("{extra}\n")));
        assert_eq!(&e.to_string(), want, "for {extra:?}");
        assert_ne!(e.kind, ErrorKind::Syntax);
    }
}

#[test]
fn string_keys_reject_numbers_and_bad_names() {
    assert_eq!(
        err("name = 123\nkernel = '/k'").to_string(),
        "line 1: name = 123: expected the domain name in quotes, e.g. name = \"123\""
    );
    assert_eq!(
        err("name = ''\nkernel = '/k'").to_string(),
        "line 1: name = \"\": expected a non-empty name without control characters"
    );
    assert_eq!(
        err("name = 'a\\nb'\nkernel = '/k'").to_string(),
        "line 1: name = \"a\\nb\": expected a non-empty name without control characters"
    );
    assert_eq!(
        err("name = 'g'\nkernel = ''").to_string(),
        "line 2: kernel = \"\": expected a path, not an empty string"
    );
}

#[test]
fn long_values_are_shortened_in_messages() {
    let long = "x".repeat(200);
    let e = err(&with(&format!("memory = '{long}'\n"))).to_string();
    assert!(e.starts_with("line 3: memory = \"xxxx"));
    assert!(e.ends_with("...: expected a number of MiB"), "{e}");
    assert!(e.len() < 120);
}

#[test]
fn syntax_errors_surface_through_parse() {
    let e = err("name = 'g'\nkernel = '/k'\nmemory = 5 12\n");
    assert_eq!(e.line, 3);
    assert_eq!(e.kind, ErrorKind::Syntax);
}

#[test]
fn error_is_std_error() {
    fn takes(_: &dyn std::error::Error) {}
    takes(&err(""));
}
