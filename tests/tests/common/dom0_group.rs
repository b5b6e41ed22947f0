//! dom0 runs in groups: one dom0 boot runs several scenarios
//! (harness/src/dom0/*.sh), and a scenario the emulator fault cost is run
//! again in a fresh boot; the results are read from `key=value` lines.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;
use rxen_harness::{self as harness, Dom0Assets, Exit, QemuConfig, RunResult};

use super::hypervisor;

pub fn dom0_assets() -> &'static Dom0Assets {
    static ASSETS: OnceLock<Dom0Assets> = OnceLock::new();
    ASSETS.get_or_init(|| harness::prepare_dom0_assets().expect("preparing dom0's initramfs"))
}

/// Boots one group of scenarios may take: the first, and a fresh one each
/// time the emulator fault (see `emulator_faults`) cost it a scenario.
pub const MAX_BOOTS: usize = 8;
/// Emulator faults one group may meet in all (dom0's, domUs', the host's):
/// CI runs of the same hypervisor met one, four and five in the toolstack
/// group's seven to twelve minutes (docs/design.md).
pub const MAX_EMULATOR_FAULTS: usize = 8;
/// dom0 hangs (RCU stalls) one group may meet: one was seen, once, in the
/// devices group, cause not yet known (docs/design.md); more is a bug.
pub const MAX_HANGS: usize = 1;
/// Starts each boot's part of the merged log.
pub const BOOT_SEPARATOR: &str = "RXEN-TEST-BOOT ";
/// Each boot's emulator faults, recorded in the merged log (the lines of a
/// scenario that is run again are left out of it, its faults with them).
pub const FAULTS_LINE: &str = "RXEN-TEST-EMULATOR-FAULTS ";

/// Every scenario of a group in one dom0 boot; a scenario the emulator
/// fault cost (dom0 or the host died in it, or one of its domUs did) is run
/// again in a fresh boot. The result holds the merged logs, each boot's
/// after a `RXEN-TEST-BOOT n` line, without the lines of the scenarios run
/// again.
pub fn group_run(group: &str, todo: Vec<String>) -> RunResult {
    group_run_with(group, todo, "")
}

/// [`group_run`] with these options on rxen's command line.
pub fn group_run_with(group: &str, mut todo: Vec<String>, rxen_options: &str) -> RunResult {
    let mut log = String::new();
    let mut last = None;
    for n in 1..=MAX_BOOTS {
        let mut qemu = group_config(group, n, &todo);
        if !rxen_options.is_empty() {
            qemu.cmdline = format!("{} {rxen_options}", qemu.cmdline);
        }
        let r = faulty_boot(qemu);
        report(&r);
        let (redo, kept) = settle(&r.log, &todo, n < MAX_BOOTS);
        log.push_str(&format!("{BOOT_SEPARATOR}{n}\n{kept}\n"));
        if !redo.is_empty() {
            eprintln!(
                "the emulator fault (docs/design.md) cost boot {n} of the {group} run {redo:?}: a fresh boot runs them again"
            );
        }
        todo = redo;
        last = Some(r);
        if todo.is_empty() {
            break;
        }
    }
    RunResult {
        log,
        ..last.expect("at least one boot")
    }
}

pub fn group_config(group: &str, n: usize, scenarios: &[String]) -> QemuConfig {
    let scenarios: Vec<&str> = scenarios.iter().map(String::as_str).collect();
    dom0_config(&format!("dom0-{group}-{n}"), dom0_assets(), &scenarios)
}

/// A dom0 boot on rxen (named `name`, with `assets`) running `scenarios`,
/// with the test limits: 15 minutes, given up on a dom0 hang or silence.
pub fn dom0_config(name: &str, assets: &harness::Dom0Assets, scenarios: &[&str]) -> QemuConfig {
    let qemu = harness::rxen_dom0_qemu_config(name, &hypervisor(), assets, scenarios, "")
        .expect("configuring the dom0 run");
    with_test_limits(qemu)
}

/// `qemu` with the dom0 tests' limits (either hypervisor's boot).
pub fn with_test_limits(mut qemu: QemuConfig) -> QemuConfig {
    qemu.timeout = Duration::from_secs(900);
    // dom0 hung (its RCU stall detector speaks after 21 s): rxen's view of
    // the domains, run queues and event delivery for the log, then the
    // boot is over, and its unfinished scenarios go to a fresh one.
    qemu.input.push(harness::SerialInput {
        after: HANG_TEXT.to_owned(),
        bytes: b"\x01\x01\x01qre".to_vec(),
    });
    qemu.give_up = Some((HANG_TEXT.to_owned(), Duration::from_secs(15)));
    // A boot that fell silent (a CI run once hung so until its timeout,
    // nothing from dom0 or rxen): every scenario prints well within this.
    qemu.silence_limit = Some(Duration::from_secs(SILENCE_LIMIT_SECS));
    qemu.hang_keys = Some(b"\x01\x01\x01qre".to_vec());
    qemu
}

/// How long a dom0 boot may print nothing before it counts as hung.
pub const SILENCE_LIMIT_SECS: u64 = 240;

/// What dom0's kernel prints when a CPU made no progress for 21 s.
pub const HANG_TEXT: &str = "rcu: INFO: rcu_preempt";

/// Runs `qemu` with QEMU's record of CPU resets beside its log (a triple
/// fault of the host, rxen itself, shows there, not on the serial
/// console), and ends the log with a `RXEN-TEST-EMULATOR-FAULTS` line.
pub fn faulty_boot(mut qemu: QemuConfig) -> RunResult {
    let resets = harness::log_dir().join(format!("{}.resets", qemu.name));
    let _ = std::fs::remove_file(&resets);
    qemu.extra_qemu_args.extend([
        "-d".into(),
        "cpu_reset".into(),
        "-D".into(),
        resets.display().to_string(),
    ]);
    let mut r = harness::run_qemu(&qemu).expect("running QEMU");
    // The consoles end lines with CR LF; the bookkeeping looks for LF.
    r.log = r.log.replace("\r\n", "\n");
    let host = std::fs::read_to_string(&resets)
        .unwrap_or_default()
        .contains("Triple fault")
        && !r.log.contains("panicked");
    let guests = emulator_faults(&r.log);
    r.log.push_str(&format!(
        "\n{FAULTS_LINE}host={} hang={} guests={guests:?}\n",
        u8::from(host),
        u8::from(r.exit == Exit::GaveUp)
    ));
    r
}

/// A boot's emulator faults: (host triple faults, guests' domain ids).
pub fn faults_of(log: &str) -> (usize, Vec<u16>) {
    log.lines()
        .filter_map(|l| l.strip_prefix(FAULTS_LINE))
        .fold((0, Vec::new()), |(h, mut g), rest| {
            let host = rest.starts_with("host=1");
            let ids = rest.split("guests=[").nth(1).unwrap_or("]");
            g.extend(
                ids.trim_end_matches(']')
                    .split(", ")
                    .filter_map(|id| id.parse::<u16>().ok()),
            );
            (h + usize::from(host), g)
        })
}

/// One scenario's lines in a boot's log: from its BEGIN line to its END
/// line (or the end of the log) and the END line's status.
pub struct Segment {
    pub start: usize,
    pub end: usize,
    pub rc: Option<String>,
}

pub fn segment(log: &str, name: &str) -> Option<Segment> {
    let begin = format!("RXEN-SCENARIO-BEGIN {name}\n");
    let start = log.find(&begin)?;
    let end_line = format!("RXEN-SCENARIO-END {name} rc=");
    match log[start..].find(&end_line) {
        Some(at) => {
            let rc_at = start + at + end_line.len();
            let rc_len = log[rc_at..].find('\n').unwrap_or(log.len() - rc_at);
            Some(Segment {
                start,
                end: rc_at + rc_len,
                rc: Some(log[rc_at..rc_at + rc_len].to_owned()),
            })
        }
        None => Some(Segment {
            start,
            end: log.len(),
            rc: None,
        }),
    }
}

/// What a boot leaves to run again (if `may_redo`) and its log as the
/// tests see it. A scenario is run again if it never began, never ended
/// (dom0 or the host died), or failed with one of its domains dying of the
/// emulator fault; its lines then go. The rounds that finished count: an
/// unfinished `rounds=N` goes on with the rest, its lines kept.
pub fn settle(log: &str, todo: &[String], may_redo: bool) -> (Vec<String>, String) {
    let (host, guests) = faults_of(log);
    let fault_line = Regex::new(r"rxen: d(\d+) fatal: triple fault").unwrap();
    let mut redo = Vec::new();
    let mut drop: Vec<(usize, usize)> = Vec::new();
    for s in todo {
        let name = s.split('=').next().unwrap_or(s);
        let seg = segment(log, name);
        let fault_in = |seg: &Segment| {
            fault_line
                .captures_iter(&log[seg.start..seg.end])
                .any(|c| guests.contains(&c[1].parse().unwrap()))
                || (host > 0 && seg.rc.is_none())
        };
        let again = match &seg {
            None => true,
            Some(seg) if seg.rc.as_deref() == Some("0") => false,
            Some(seg) => seg.rc.is_none() || fault_in(seg),
        };
        if !again || !may_redo {
            continue;
        }
        if let Some(left) = s.strip_prefix("rounds=") {
            let done = seg.as_ref().map_or(0, |g| {
                log[g.start..g.end].matches("RXEN-XL-ROUND i=").count()
            });
            let left = left.parse::<usize>().unwrap().saturating_sub(done);
            if left > 0 {
                redo.push(format!("rounds={left}"));
            }
            continue;
        }
        redo.push(s.clone());
        if let Some(seg) = seg {
            drop.push((seg.start, seg.end));
        }
    }
    drop.sort();
    let mut kept = String::new();
    let mut at = 0;
    for (start, end) in drop {
        kept.push_str(&log[at..start]);
        at = end;
    }
    kept.push_str(&log[at..]);
    // The faults line stays even when the segment it followed went.
    if !kept.contains(FAULTS_LINE) {
        if let Some(l) = log.lines().find(|l| l.starts_with(FAULTS_LINE)) {
            kept.push_str(&format!("\n{l}\n"));
        }
    }
    (redo, kept)
}

/// The domains that died of the emulator fault seen under QEMU's nested
/// SVM (docs/design.md): a triple fault with CR2 on the #DF gate of the
/// guest's own IDT, i.e. the guest could not read its IDT right after an
/// exit. Linux's IDT is its read-only alias at the start of the CPU entry
/// area once booted, but a domU early in its boot still uses one in the
/// kernel image: the gate is found from the IDT base rxen dumps.
pub fn emulator_faults(log: &str) -> Vec<u16> {
    let dump = Regex::new(r"rxen: d(\d+)   cr0=\S+ cr2=0x([0-9a-f]+) .*idt=0x([0-9a-f]+)").unwrap();
    let fatal = Regex::new(r"rxen: d(\d+) fatal: triple fault").unwrap();
    let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
    let double_fault_gate = 8 * 16;
    let dumped: BTreeSet<u16> = dump
        .captures_iter(log)
        .filter(|c| hex(&c[2]) == hex(&c[3]).wrapping_add(double_fault_gate))
        .map(|c| c[1].parse().unwrap())
        .collect();
    fatal
        .captures_iter(log)
        .map(|c| c[1].parse().unwrap())
        .filter(|id| dumped.contains(id))
        .collect()
}

pub fn report(r: &RunResult) {
    let crashes = r.log.matches("RXEN-DOM0-CRASH").count();
    eprintln!(
        "dom0 run {}: {} after {:.1} s; dom0 process crashes retried: {crashes}",
        r.log_path.display(),
        r.exit,
        r.elapsed.as_secs_f64()
    );
}

/// The `key=value` fields of every line containing `marker`.
pub fn fields(r: &RunResult, marker: &str) -> Vec<Vec<(String, String)>> {
    let re = Regex::new(r"(\w+)=(\S*)").unwrap();
    r.log
        .lines()
        .filter_map(|l| l.split_once(marker).map(|(_, rest)| rest))
        .filter(|rest| rest.starts_with(' ') || rest.is_empty())
        .map(|rest| {
            re.captures_iter(rest)
                .map(|c| (c[1].to_owned(), c[2].to_owned()))
                .collect()
        })
        .collect()
}

#[track_caller]
pub fn field<'a>(r: &RunResult, line: &'a [(String, String)], key: &str) -> &'a str {
    match line.iter().find(|(k, _)| k == key) {
        Some((_, v)) => v,
        None => r.fail(&format!("no {key}= in {line:?}")),
    }
}

/// A field of `line` that must be a whole number.
#[track_caller]
pub fn number(r: &RunResult, line: &[(String, String)], key: &str) -> i64 {
    let v = field(r, line, key);
    v.parse()
        .unwrap_or_else(|_| r.fail(&format!("{key}={v:?} is not a number in {line:?}")))
}

#[track_caller]
pub fn only_line(r: &RunResult, marker: &str) -> Vec<(String, String)> {
    let mut lines = fields(r, marker);
    if lines.len() != 1 {
        r.fail(&format!(
            "expected one {marker} line, found {}",
            lines.len()
        ));
    }
    lines.remove(0)
}

#[track_caller]
pub fn assert_scenario_passed(r: &RunResult, name: &str) {
    let end = format!("RXEN-SCENARIO-END {name} rc=0");
    r.assert_contains(&end);
}

/// rxen's own lines (not the guests' consoles).
pub fn hypervisor_lines(r: &RunResult) -> impl Iterator<Item = &str> {
    r.log.lines().filter(|l| {
        l.contains(" rxen: ")
            && !l.contains("CONSOLE")
            // `xl dmesg`'s copy of the same lines, and dom0's command line
            // (whose scenario names say "errors").
            && !l.starts_with("xl-dmesg")
            && !l.contains("rxen.dom0=")
    })
}

pub fn check_clean_log(r: &RunResult) {
    let faults = emulator_faults(&r.log);
    let (host_faults, all_guests) = faults_of(&r.log);
    let boots = r.log.matches(BOOT_SEPARATOR).count();
    let hangs = r.log.matches(" hang=1 ").count();
    eprintln!(
        "emulator faults (docs/design.md) in {boots} boot(s): guests unable to read their IDT after an exit: domains {all_guests:?}; host triple faults: {host_faults}; dom0 hangs given up on: {hangs}"
    );
    if hangs > MAX_HANGS {
        r.fail(&format!(
            "dom0 hung in {hangs} boots (see the RCU stall and rxen's dumps in the logs)"
        ));
    }
    if all_guests.len() + host_faults > MAX_EMULATOR_FAULTS {
        r.fail(&format!(
            "{} emulator faults: more than bad luck",
            all_guests.len() + host_faults
        ));
    }
    let fault_line = Regex::new(r"rxen: d(\d+) fatal: triple fault").unwrap();
    let bad: Vec<&str> = hypervisor_lines(r)
        .filter(|l| {
            let lower = l.to_ascii_lowercase();
            let complaint = lower.contains("fatal")
                || lower.contains("panic")
                || lower.contains("warning")
                || lower.contains("error");
            let explained = fault_line
                .captures(l)
                .is_some_and(|c| faults.contains(&c[1].parse().unwrap()));
            complaint && !explained
        })
        .collect();
    if !bad.is_empty() {
        r.fail(&format!("rxen complained:\n{}", bad.join("\n")));
    }
    // A round run again is explained only by a domU that died of the
    // emulator fault.
    let again = r.log.matches("RXEN-XL-ROUND-AGAIN ").count();
    let domu_faults = faults.iter().filter(|&&id| id != 0).count();
    if again > domu_faults {
        r.fail(&format!(
            "{again} rounds run again, {domu_faults} domUs died of the emulator fault"
        ));
    }
    // A create that failed for no reason of its own was retried: on rxen
    // that must not happen (dom0 process crashes are counted, not failed).
    if r.log.contains("RXEN-XL-RETRY") {
        r.fail("xl create of a good configuration failed and was retried");
    }
}
