//! Booting the hypervisor in QEMU and capturing its serial console.

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};

use crate::{log_dir, Emulator};

/// How QEMU loads the hypervisor.
#[derive(Clone, Debug)]
pub enum Boot {
    /// `-kernel IMAGE`: QEMU's PVH direct boot; fast, the usual test path.
    Pvh { image: PathBuf },
    /// `-cdrom ISO`: SeaBIOS, then GRUB with Multiboot2, as on a real machine.
    /// The command line and modules are inside the ISO (see [`crate::build_iso`]).
    Iso { iso: PathBuf },
}

/// A file handed to the hypervisor as a boot module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    /// The file's name: a single path component without spaces, because it
    /// becomes a file name in the ISO.
    pub name: String,
    pub path: PathBuf,
    /// The module's command line, the string the hypervisor sees (GRUB's
    /// `module2 FILE STRING`); `None`: the name. A control domain's kernel
    /// carries the kernel's command line here.
    pub cmdline: Option<String>,
}

impl Module {
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>) -> Result<Self> {
        let name = name.into();
        ensure!(
            !name.is_empty()
                && !name.contains(|c: char| c.is_whitespace() || c == '/')
                && name != "."
                && name != "..",
            "bad module name {name:?}: it must be one path component without spaces"
        );
        Ok(Self {
            name,
            path: path.into(),
            cmdline: None,
        })
    }

    /// A module whose string (what the hypervisor sees) is `cmdline`.
    pub fn with_cmdline(
        name: impl Into<String>,
        path: impl Into<PathBuf>,
        cmdline: impl Into<String>,
    ) -> Result<Self> {
        let cmdline = cmdline.into();
        ensure!(
            !cmdline.is_empty() && !cmdline.contains(['\0', '\n']),
            "bad module command line {cmdline:?}"
        );
        Ok(Self {
            cmdline: Some(cmdline),
            ..Self::new(name, path)?
        })
    }

    /// What the hypervisor sees as the module's name (its command line).
    pub fn string(&self) -> &str {
        self.cmdline.as_deref().unwrap_or(&self.name)
    }
}

/// Parses `NAME=PATH`, as given to `cargo xtask run --module`.
impl FromStr for Module {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let Some((name, path)) = s.split_once('=') else {
            bail!("expected NAME=PATH, got {s:?}");
        };
        Module::new(name, path)
    }
}

/// One QEMU run. Start from [`QemuConfig::new`] and override fields.
#[derive(Clone, Debug)]
pub struct QemuConfig {
    /// Names the log file (`target/qemu-logs/<name>.log`); unique per test.
    pub name: String,
    pub boot: Boot,
    pub smp: u32,
    pub memory_mib: u32,
    /// QEMU's `-cpu` model (see [`QemuConfig::new`] for the default).
    pub cpu: String,
    /// QEMU is killed after this long ([`Exit::Timeout`]).
    pub timeout: Duration,
    /// The hypervisor command line (PVH only; an ISO carries its own).
    pub cmdline: String,
    /// Boot modules (PVH only; an ISO carries its own).
    pub modules: Vec<Module>,
    /// Copy the serial console to our stdout as it arrives, and give QEMU our
    /// stdin (interactive `cargo xtask run`).
    pub echo: bool,
    /// Where to keep the log; `None` means `target/qemu-logs/<name>.log`.
    pub log_path: Option<PathBuf>,
    pub extra_qemu_args: Vec<String>,
    /// Typed on the serial console, in order: each entry's bytes once the
    /// console has printed its `after` text (tests of debug keys, input).
    pub input: Vec<SerialInput>,
    /// Which QEMU (default: the installed one).
    pub emulator: Emulator,
    /// Once the console prints this, the run is over in this long (time for
    /// the diagnostics typed in [`QemuConfig::input`] to arrive): a guest
    /// that has hung need not cost the whole timeout ([`Exit::GaveUp`]).
    pub give_up: Option<(String, Duration)>,
    /// A console silent this long means the run has hung ([`Exit::GaveUp`]):
    /// a machine that stopped without a word (no stall report from dom0,
    /// nothing from the hypervisor) need not cost the whole timeout.
    pub silence_limit: Option<Duration>,
    /// Typed on the serial console when a limit (timeout, silence, give-up)
    /// ends the run, before QEMU is stopped: the hypervisor's debug keys,
    /// so that the kept log of a hang shows what every vCPU was doing.
    pub hang_keys: Option<Vec<u8>>,
}

/// Bytes to type on the serial console once `after` has appeared.
#[derive(Clone, Debug)]
pub struct SerialInput {
    pub after: String,
    pub bytes: Vec<u8>,
}

impl QemuConfig {
    /// Defaults: 2 CPUs, 1 GiB, CPU model `EPYC,-monitor,-rdtscp` (TCG's
    /// EPYC has SVM; Xen-style hypervisors want MWAIT and RDTSCP gone, see
    /// docs/qemu-svm.md), 60 s, empty command line, no modules, no echo.
    pub fn new(name: impl Into<String>, boot: Boot) -> Self {
        Self {
            name: name.into(),
            boot,
            smp: 2,
            memory_mib: 1024,
            cpu: "EPYC,-monitor,-rdtscp".to_owned(),
            timeout: Duration::from_secs(60),
            cmdline: String::new(),
            modules: Vec::new(),
            echo: false,
            log_path: None,
            extra_qemu_args: Vec::new(),
            input: Vec::new(),
            give_up: None,
            silence_limit: None,
            hang_keys: None,
            emulator: Emulator::Installed,
        }
    }

    /// The machine's RAM in the file `path` (shared: the guest's writes are
    /// in it as they happen, and stay after QEMU has gone), for a test to
    /// read what the guest left in memory. Set [`QemuConfig::memory_mib`]
    /// first.
    pub fn keep_ram_in(&mut self, path: &Path) {
        let backend = format!(
            "memory-backend-file,id=rxen-ram,size={}M,mem-path={},share=on",
            self.memory_mib,
            path.display()
        );
        self.extra_qemu_args.extend([
            "-object".to_owned(),
            backend,
            "-machine".to_owned(),
            "memory-backend=rxen-ram".to_owned(),
        ]);
    }

    /// The log file of this run.
    pub fn log_path(&self) -> PathBuf {
        self.log_path
            .clone()
            .unwrap_or_else(|| log_dir().join(format!("{}.log", self.name)))
    }

    fn bundle_path(&self) -> PathBuf {
        log_dir().join(format!("{}.modules", self.name))
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The hypervisor wrote 0x10 to the isa-debug-exit port: status 33.
    Success,
    /// The hypervisor wrote 0x11 (a panic or a failed check): status 35.
    Failure,
    /// QEMU exited with 0: the machine powered off (ACPI) or QEMU quit.
    PoweredOff,
    /// We killed QEMU when the timeout passed.
    Timeout,
    /// We killed QEMU after the console showed the give-up text.
    GaveUp,
    /// Any other status (128 + signal when a signal killed QEMU).
    Other(i32),
}

impl Exit {
    /// The isa-debug-exit device turns a write of V into status `(V << 1) | 1`.
    pub fn from_status(code: i32) -> Self {
        match code {
            33 => Exit::Success,
            35 => Exit::Failure,
            0 => Exit::PoweredOff,
            other => Exit::Other(other),
        }
    }

    /// Whether the run counts as a success (a clean power-off included).
    pub fn is_ok(self) -> bool {
        matches!(self, Exit::Success | Exit::PoweredOff)
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Success => f.write_str("powered off (success)"),
            Exit::Failure => f.write_str("failed (panic)"),
            Exit::PoweredOff => f.write_str("powered off"),
            Exit::Timeout => f.write_str("timed out"),
            Exit::GaveUp => f.write_str("given up on (the console showed a hang, or fell silent)"),
            Exit::Other(code) => write!(f, "ended with QEMU status {code}"),
        }
    }
}

/// (bytes of the log so far, time since QEMU started) after each read of
/// QEMU's output.
pub type Arrivals = Vec<(usize, Duration)>;

/// What a run produced: how it ended and the whole serial log.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub exit: Exit,
    /// Serial console and QEMU's own messages, interleaved as they came.
    pub log: String,
    pub log_path: PathBuf,
    pub elapsed: Duration,
    /// When the output arrived, one entry per read, in order.
    pub arrivals: Arrivals,
}

impl RunResult {
    /// How long after QEMU's start `needle` first appeared on the serial
    /// console (to the granularity of QEMU's writes).
    pub fn time_of(&self, needle: &str) -> Option<Duration> {
        let end = self.log.find(needle)? + needle.len();
        // `log` is the lossy UTF-8 of the raw bytes: positions agree as
        // long as the output before the needle was valid UTF-8, and the
        // last arrival is the fallback otherwise.
        self.arrivals
            .iter()
            .find(|(bytes, _)| *bytes >= end)
            .or(self.arrivals.last())
            .map(|&(_, t)| t)
    }

    /// The last `n` lines of the log.
    pub fn tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self.log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Panics with `what`, the log path and the end of the log: a failing
    /// test then shows what the hypervisor said last.
    #[track_caller]
    pub fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}\nQEMU {} after {:.1} s; log: {}\n--- last lines ---\n{}\n---",
            self.exit,
            self.elapsed.as_secs_f64(),
            self.log_path.display(),
            self.tail(40)
        )
    }

    #[track_caller]
    pub fn assert_contains(&self, needle: &str) {
        if !self.log.contains(needle) {
            self.fail(&format!("the log does not contain {needle:?}"));
        }
    }

    #[track_caller]
    pub fn assert_exit(&self, expected: Exit) {
        if self.exit != expected {
            self.fail(&format!("expected exit {expected:?}, got {:?}", self.exit));
        }
    }

    /// Asserts that the needles occur in this order.
    #[track_caller]
    pub fn assert_in_order(&self, needles: &[&str]) {
        let mut rest = self.log.as_str();
        for needle in needles {
            match rest.find(needle) {
                Some(i) => rest = &rest[i + needle.len()..],
                None => self.fail(&format!(
                    "the log does not contain {needles:?} in this order"
                )),
            }
        }
    }
}

/// The QEMU arguments for a run; `bundle` is the PVH module bundle, if any.
pub fn qemu_args(cfg: &QemuConfig, bundle: Option<&Path>) -> Vec<OsString> {
    let (smp, memory) = (cfg.smp.to_string(), cfg.memory_mib.to_string());
    let options = [
        ("-accel", "tcg"),
        ("-M", "q35"),
        ("-cpu", &cfg.cpu),
        ("-smp", &smp),
        ("-m", &memory),
        ("-display", "none"),
        ("-monitor", "none"),
        ("-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"),
        // signal=off: a Ctrl-C goes to the guest rather than killing QEMU.
        ("-chardev", "stdio,id=com1,signal=off"),
        ("-serial", "chardev:com1"),
    ];
    let mut args = cfg.emulator.leading_args();
    args.extend(
        options
            .iter()
            .flat_map(|&(option, value)| [option.into(), value.into()]),
    );
    // A triple fault ends the run instead of rebooting into the same fault.
    args.push("-no-reboot".into());
    match &cfg.boot {
        Boot::Pvh { image } => {
            args.extend([
                "-kernel".into(),
                image.into(),
                "-append".into(),
                (&cfg.cmdline).into(),
            ]);
            if let Some(bundle) = bundle {
                args.extend(["-initrd".into(), bundle.into()]);
            }
        }
        Boot::Iso { iso } => args.extend(["-cdrom".into(), iso.into(), "-boot".into(), "d".into()]),
    }
    args.extend(cfg.extra_qemu_args.iter().map(OsString::from));
    args
}

/// Boots QEMU as configured and waits until it exits or the timeout passes.
///
/// The log is written as the bytes arrive, so it survives a hang or a killed
/// test; it is kept for every run, and its path is printed (unless echoing)
/// when the run did not succeed.
pub fn run_qemu(cfg: &QemuConfig) -> Result<RunResult> {
    let log_path = cfg.log_path();
    if let Some(dir) = log_path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let bundle = match (&cfg.boot, cfg.modules.is_empty()) {
        (Boot::Pvh { .. }, false) => Some(write_module_bundle(cfg)?),
        _ => None,
    };
    let log_file =
        File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;

    // One pipe for QEMU's stdout and stderr, so that its own complaints
    // (a bad image, a missing file) land in the log next to the console.
    let (reader, writer) = io::pipe().context("creating a pipe")?;
    let mut cmd = Command::new(cfg.emulator.program());
    cmd.args(qemu_args(cfg, bundle.as_deref()))
        .stdin(if cfg.echo {
            Stdio::inherit()
        } else if !cfg.input.is_empty() || cfg.hang_keys.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(writer.try_clone()?)
        .stderr(writer);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", cfg.emulator.describe()))?;
    // Drop our copies of the pipe's write end, or the reader never sees EOF.
    drop(cmd);
    let echo = cfg.echo;
    let stdin = Arc::new(Mutex::new(child.stdin.take()));
    let typist = Typist {
        stdin: stdin.clone(),
        pending: cfg.input.clone(),
        give_up: cfg.give_up.clone(),
        given_up_at: Arc::new(Mutex::new(None)),
        give_up_scanned: 0,
        pending_scanned: 0,
    };
    let given_up_at = typist.given_up_at.clone();
    let last_output = Arc::new(Mutex::new(start));
    let heard = last_output.clone();
    let pump = thread::spawn(move || pump(reader, log_file, echo, typist, start, &heard));

    let limits = Limits {
        deadline: start + cfg.timeout,
        given_up_at: &given_up_at,
        silence: cfg.silence_limit.map(|limit| (limit, &*last_output)),
    };
    let hang = cfg.hang_keys.as_deref().map(|keys| (keys, &*stdin));
    let exit = wait(&mut child, &limits, hang)?;
    let elapsed = start.elapsed();
    let (log, arrivals) = pump.join().expect("log thread panicked")?;
    let result = RunResult {
        exit,
        log: String::from_utf8_lossy(&log).into_owned(),
        log_path,
        elapsed,
        arrivals,
    };
    // An echoing (interactive) caller prints its own summary.
    if !exit.is_ok() && !cfg.echo {
        eprintln!(
            "xtask: QEMU run {:?} {exit}; log kept at {}",
            cfg.name,
            result.log_path.display()
        );
    }
    Ok(result)
}

/// Packs the modules into one file: PVH boot passes exactly one (`-initrd`).
fn write_module_bundle(cfg: &QemuConfig) -> Result<PathBuf> {
    let files = cfg
        .modules
        .iter()
        .map(|m| fs::read(&m.path).with_context(|| format!("reading module {}", m.path.display())))
        .collect::<Result<Vec<_>>>()?;
    let entries: Vec<(&str, &[u8])> = cfg
        .modules
        .iter()
        .zip(&files)
        .map(|(m, data)| (m.string(), data.as_slice()))
        .collect();
    let path = cfg.bundle_path();
    // The fallible writer: names come from the command line (`--module`),
    // so a bad one is the user's mistake to report, not a bug to panic on.
    let bundle = rxen_boot_info::bundle::try_write_bundle(&entries)
        .map_err(|e| anyhow!("cannot bundle the modules: {e}"))?;
    fs::write(&path, bundle).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Copies QEMU's output to the log file (unbuffered, so it is on disk at
/// once), to our stdout when echoing, and into memory for the assertions.
/// Types the configured input when its trigger text has been printed.
struct Typist {
    stdin: Arc<Mutex<Option<ChildStdin>>>,
    pending: Vec<SerialInput>,
    give_up: Option<(String, Duration)>,
    /// When the run is to end, once the give-up text has been seen.
    given_up_at: Arc<Mutex<Option<Instant>>>,
    /// How much of the output each search has read (the give-up text's,
    /// the first pending input's): each read looks at the new bytes only,
    /// so a long console (an image crossing it) costs linear time.
    give_up_scanned: usize,
    pending_scanned: usize,
}

impl Typist {
    fn check(&mut self, output: &[u8]) {
        if let Some((text, grace)) = &self.give_up {
            if seen_since(output, &mut self.give_up_scanned, text) {
                *self.given_up_at.lock().unwrap() = Some(Instant::now() + *grace);
                self.give_up = None;
            }
        }
        while let Some(next) = self.pending.first() {
            if !seen_since(output, &mut self.pending_scanned, &next.after) {
                return;
            }
            type_bytes(&self.stdin, &next.bytes);
            self.pending.remove(0);
            // The next input's text may have come before this one's.
            self.pending_scanned = 0;
        }
    }
}

/// Types `bytes` on QEMU's serial console. A closed stdin (QEMU gone) just
/// means nobody listens.
fn type_bytes(stdin: &Mutex<Option<ChildStdin>>, bytes: &[u8]) {
    if let Some(stdin) = stdin.lock().unwrap().as_mut() {
        let _ = stdin.write_all(bytes).and_then(|()| stdin.flush());
    }
}

/// Whether `needle` is in `output`, reading only from where the last call
/// stopped (`scanned`, moved on) less the needle's length (it may straddle
/// two reads).
fn seen_since(output: &[u8], scanned: &mut usize, needle: &str) -> bool {
    let needle = needle.as_bytes();
    let from = scanned.saturating_sub(needle.len());
    *scanned = output.len();
    needle.is_empty() || output[from..].windows(needle.len()).any(|w| w == needle)
}

fn pump(
    mut from: impl Read,
    mut log: File,
    echo: bool,
    mut typist: Typist,
    start: Instant,
    last_output: &Mutex<Instant>,
) -> Result<(Vec<u8>, Arrivals)> {
    let mut all = Vec::new();
    let mut arrivals = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok((all, arrivals)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("reading QEMU's output"),
        };
        let chunk = &buf[..n];
        *last_output.lock().unwrap() = Instant::now();
        log.write_all(chunk).context("writing the log")?;
        if echo {
            let mut out = io::stdout().lock();
            // Echo is a courtesy; a closed stdout must not lose the log.
            let _ = out.write_all(chunk).and_then(|()| out.flush());
        }
        all.extend_from_slice(chunk);
        arrivals.push((all.len(), start.elapsed()));
        typist.check(&all);
    }
}

/// When a run is over although QEMU still runs.
struct Limits<'a> {
    deadline: Instant,
    /// Set once the give-up text has been seen.
    given_up_at: &'a Mutex<Option<Instant>>,
    /// The longest silence allowed, and when the console last printed.
    silence: Option<(Duration, &'a Mutex<Instant>)>,
}

impl Limits<'_> {
    fn passed(&self, now: Instant) -> Option<Exit> {
        if now >= self.deadline {
            return Some(Exit::Timeout);
        }
        let given_up = self.given_up_at.lock().unwrap().is_some_and(|at| now >= at);
        let silent = self
            .silence
            .is_some_and(|(limit, last)| now.duration_since(*last.lock().unwrap()) >= limit);
        (given_up || silent).then_some(Exit::GaveUp)
    }
}

/// How long the hypervisor has to print its state after the hang keys.
const HANG_DUMP_TIME: Duration = Duration::from_secs(3);

/// Waits for QEMU; once a limit has passed types the hang keys (if any),
/// gives the dump time to arrive, asks QEMU to quit (SIGTERM lets it
/// restore the terminal it put in raw mode), then kills it.
fn wait(
    child: &mut Child,
    limits: &Limits,
    hang: Option<(&[u8], &Mutex<Option<ChildStdin>>)>,
) -> Result<Exit> {
    let exit = loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Exit::from_status(status_code(status)));
        }
        if let Some(exit) = limits.passed(Instant::now()) {
            break exit;
        }
        thread::sleep(Duration::from_millis(20));
    };
    if let Some((keys, stdin)) = hang {
        type_bytes(stdin, keys);
        let dumped = Instant::now() + HANG_DUMP_TIME;
        while child.try_wait()?.is_none() && Instant::now() < dumped {
            thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = Command::new("kill")
        .arg(child.id().to_string())
        .stderr(Stdio::null())
        .status();
    let grace = Instant::now() + Duration::from_secs(2);
    while child.try_wait()?.is_none() && Instant::now() < grace {
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait()?;
    Ok(exit)
}

/// The exit status as a shell reports it: 128 + N when signal N killed it.
fn status_code(status: ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_found_across_reads_and_each_byte_read_once() {
        let mut scanned = 0;
        let mut out = b"boot ... rcu: INFO".to_vec();
        assert!(!seen_since(&out, &mut scanned, "rcu: INFO: rcu_preempt"));
        assert_eq!(scanned, out.len());
        out.extend_from_slice(b": rcu_preempt detected stalls");
        assert!(seen_since(&out, &mut scanned, "rcu: INFO: rcu_preempt"));
        let mut scanned = 0;
        assert!(seen_since(b"abc", &mut scanned, "abc"));
        assert!(!seen_since(b"abcdef", &mut scanned, "x"));
    }

    fn strings(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_run_is_over_at_its_deadline_after_the_give_up_text_or_a_silence() {
        let start = Instant::now();
        let (none, last) = (Mutex::new(None), Mutex::new(start));
        let secs = Duration::from_secs;
        let limits = Limits {
            deadline: start + secs(900),
            given_up_at: &none,
            silence: Some((secs(240), &last)),
        };
        assert_eq!(limits.passed(start + secs(239)), None);
        assert_eq!(limits.passed(start + secs(240)), Some(Exit::GaveUp));
        // Output since then starts the silence again.
        *last.lock().unwrap() = start + secs(200);
        assert_eq!(limits.passed(start + secs(300)), None);
        assert_eq!(limits.passed(start + secs(900)), Some(Exit::Timeout));
        let unlimited = Limits {
            silence: None,
            ..limits
        };
        assert_eq!(unlimited.passed(start + secs(899)), None);
        *none.lock().unwrap() = Some(start + secs(10));
        assert_eq!(unlimited.passed(start + secs(10)), Some(Exit::GaveUp));
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Exit::from_status((0x10 << 1) | 1), Exit::Success);
        assert_eq!(Exit::from_status((0x11 << 1) | 1), Exit::Failure);
        assert_eq!(Exit::from_status(0), Exit::PoweredOff);
        assert_eq!(Exit::from_status(1), Exit::Other(1));
        assert!(Exit::Success.is_ok() && Exit::PoweredOff.is_ok());
        assert!(!Exit::Failure.is_ok() && !Exit::Timeout.is_ok() && !Exit::Other(1).is_ok());
    }

    #[test]
    fn pvh_command_line() {
        let cfg = QemuConfig {
            smp: 4,
            memory_mib: 512,
            cmdline: "debug_exit loglvl=info".into(),
            extra_qemu_args: vec!["-s".into()],
            ..QemuConfig::new(
                "t",
                Boot::Pvh {
                    image: "/x/rxen".into(),
                },
            )
        };
        let args = strings(&qemu_args(&cfg, Some(Path::new("/x/t.modules"))));
        let joined = args.join(" ");
        assert!(joined.starts_with("-accel tcg -M q35 -cpu EPYC,-monitor,-rdtscp -smp 4 -m 512 "));
        assert!(joined.contains("-display none -monitor none "));
        assert!(joined.contains("-device isa-debug-exit,iobase=0xf4,iosize=0x04"));
        assert!(joined.contains(" -no-reboot "));
        assert!(joined.contains("-chardev stdio,id=com1,signal=off -serial chardev:com1"));
        // The command line stays one argument.
        let tail = &args[args.len() - 7..];
        assert_eq!(
            tail,
            [
                "-kernel",
                "/x/rxen",
                "-append",
                "debug_exit loglvl=info",
                "-initrd",
                "/x/t.modules",
                "-s"
            ]
        );
    }

    #[test]
    fn iso_command_line() {
        let cfg = QemuConfig::new(
            "t",
            Boot::Iso {
                iso: "/x/rxen.iso".into(),
            },
        );
        let args = strings(&qemu_args(&cfg, None));
        assert!(args.join(" ").contains("-smp 2 -m 1024 "));
        assert_eq!(
            args[args.len() - 4..],
            ["-cdrom", "/x/rxen.iso", "-boot", "d"]
        );
        assert!(!args.iter().any(|a| a == "-kernel" || a == "-append"));
    }

    #[test]
    fn module_parsing() {
        let m: Module = "hello.txt=/tmp/a=b".parse().unwrap();
        assert_eq!(
            m,
            Module {
                name: "hello.txt".into(),
                path: "/tmp/a=b".into(),
                cmdline: None,
            }
        );
        assert!("nopath".parse::<Module>().is_err());
        assert!("a b=/x".parse::<Module>().is_err());
        assert!("a/b=/x".parse::<Module>().is_err());
        assert!("=/x".parse::<Module>().is_err());
    }

    #[test]
    fn default_log_path() {
        let cfg = QemuConfig::new("boot-smp2", Boot::Iso { iso: "x".into() });
        assert_eq!(cfg.log_path(), log_dir().join("boot-smp2.log"));
    }

    #[test]
    fn in_order() {
        let r = RunResult {
            exit: Exit::Failure,
            log: "a vector 14 b PANIC c".into(),
            log_path: "x".into(),
            elapsed: Duration::ZERO,
            arrivals: Vec::new(),
        };
        r.assert_in_order(&["vector 14", "PANIC"]);
        assert!(std::panic::catch_unwind(|| r.assert_in_order(&["PANIC", "vector 14"])).is_err());
    }

    #[test]
    fn time_of_a_line_is_when_its_last_byte_came() {
        let ms = Duration::from_millis;
        let r = RunResult {
            exit: Exit::Success,
            log: "boot\nRXEN-UP now\nend".into(),
            log_path: "x".into(),
            elapsed: ms(30),
            arrivals: vec![(3, ms(10)), (9, ms(20)), (20, ms(30))],
        };
        assert_eq!(r.time_of("boot"), Some(ms(20)));
        assert_eq!(r.time_of("RXEN-UP"), Some(ms(30)));
        assert_eq!(r.time_of("bo"), Some(ms(10)));
        assert_eq!(r.time_of("missing"), None);
    }
}
