//! The hypervisor log: every line carries the time since boot and the CPU
//! that wrote it, e.g. `[    1.234567] cpu1 rxen: 2 CPUs online`.
//! Levels follow Xen's `loglvl=` names (none, error, warning, info, debug,
//! all). Guest console lines carry Xen's `(dN)` prefix instead of a CPU.

pub mod control;
pub mod guest;
pub mod ring;

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};

use log::{LevelFilter, Log, Metadata, Record};

use crate::arch;
use crate::arch::serial::Serial;
use crate::sync::TicketLock;

static SERIAL: TicketLock<Serial> = TicketLock::new(Serial::new());
static LOGGER: Logger = Logger;
/// Set once a panic has begun: from then on the console lock is bypassed,
/// because the CPU that panicked may be the one holding it.
static PANICKING: AtomicBool = AtomicBool::new(false);

struct Logger;

/// Brings up COM1 and installs the logger at `info`.
pub fn init() {
    SERIAL.lock().init();
    // Only fails if a logger is already set, which init() is the only place
    // to do.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(LevelFilter::Info);
}

pub fn set_level(level: LevelFilter) {
    log::set_max_level(level);
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            let tag = match record.level() {
                log::Level::Error => "ERROR: ",
                log::Level::Warn => "WARNING: ",
                _ => "",
            };
            print_line(format_args!("{tag}{}", record.args()));
        }
    }

    fn flush(&self) {}
}

/// Writes one complete log line (prefix, text, newline) without
/// interleaving with other CPUs; it also goes into the console ring.
pub fn print_line(args: fmt::Arguments) {
    let ns = arch::time::since_boot_ns();
    let cpu = arch::cpu_index();
    with_serial(|w| {
        w.start_line();
        let _ = writeln!(
            w,
            "[{:5}.{:06}] cpu{} {}",
            ns / 1_000_000_000,
            (ns % 1_000_000_000) / 1000,
            cpu,
            args
        );
    });
}

/// One line of a domain's console: `[time] (dN) text`.
pub fn print_guest_line(domid: u16, text: &str) {
    let ns = arch::time::since_boot_ns();
    with_serial(|w| {
        w.start_line();
        let _ = writeln!(
            w,
            "[{:5}.{:06}] (d{}) {}",
            ns / 1_000_000_000,
            (ns % 1_000_000_000) / 1000,
            domid,
            text
        );
    });
}

/// The control domain's output, as it is (`newline`: a complete line).
pub fn print_raw(text: &[u8], newline: bool) {
    with_serial_raw(|serial| {
        serial.write_bytes(text);
        if newline {
            serial.write_bytes(b"\r\n");
        }
        if !text.is_empty() || newline {
            AT_LINE_START.store(newline, Ordering::Relaxed);
        }
    });
}

/// Whether the serial line's cursor is at the start of a line (dom0's
/// partial lines leave it elsewhere; log lines then start a new one).
static AT_LINE_START: AtomicBool = AtomicBool::new(true);

/// Which domain serial input goes to, or [`TO_HYPERVISOR`].
static INPUT_TARGET: AtomicU32 = AtomicU32::new(TO_HYPERVISOR);
/// Serial input goes to rxen itself (debug keys).
const TO_HYPERVISOR: u32 = u32::MAX;

/// Gives serial input to `domid` (dom0 gets it when it starts, as on Xen).
pub fn set_input_target(domid: u16) {
    INPUT_TARGET.store(u32::from(domid), Ordering::Relaxed);
}
/// Consecutive Ctrl-A presses seen.
static CTRL_A_COUNT: AtomicU8 = AtomicU8::new(0);
const CTRL_A: u8 = 0x01;

/// Moves typed characters to the domain that has the console; three
/// Ctrl-A in a row switch to the next domain (and back to rxen), as on Xen.
pub fn poll_input() {
    loop {
        let Some(byte) = SERIAL.lock().read_byte() else {
            return;
        };
        if byte == CTRL_A {
            if CTRL_A_COUNT.fetch_add(1, Ordering::Relaxed) + 1 == 3 {
                CTRL_A_COUNT.store(0, Ordering::Relaxed);
                switch_input();
            }
            continue;
        }
        CTRL_A_COUNT.store(0, Ordering::Relaxed);
        let target = INPUT_TARGET.load(Ordering::Relaxed);
        if target == TO_HYPERVISOR {
            debug_key(byte);
            continue;
        }
        let Some(dom) = crate::domain::get(target as u16) else {
            continue;
        };
        if dom.is_control() {
            control::push_input(byte);
        } else if let Some(console) = &dom.console {
            if console.push_input(byte) {
                dom.set_pending(console.port);
            }
        }
    }
}

/// Xen-style debug keys, typed while input goes to the hypervisor.
pub fn debug_key(key: u8) {
    match key {
        b'q' => crate::domain::dump_domains(),
        b'r' => crate::sched::dump_run_queues(),
        b'e' => crate::evtchn::dump(),
        b'h' | b'?' => {
            crate::println!(
                "rxen: debug keys: 'q' domains, 'r' run queues, 'e' event delivery, 'h' this help"
            );
            crate::println!(
                "rxen: Ctrl-A three times switches serial input between rxen and the domains"
            );
        }
        _ => {}
    }
}

/// The next one of: the hypervisor, then every domain that takes input
/// (dom0 and the boot-time domains rxen serves), by id.
fn switch_input() {
    let ids: alloc::vec::Vec<u32> = crate::domain::all()
        .iter()
        .filter(|d| d.is_control() || d.console.is_some())
        .map(|d| u32::from(d.id))
        .collect();
    let current = INPUT_TARGET.load(Ordering::Relaxed);
    let next = if current == TO_HYPERVISOR {
        ids.first().copied()
    } else {
        ids.iter().copied().find(|&id| id > current)
    }
    .unwrap_or(TO_HYPERVISOR);
    INPUT_TARGET.store(next, Ordering::Relaxed);
    if next == TO_HYPERVISOR {
        crate::println!("rxen: serial input to the hypervisor (Ctrl-A three times to switch)");
    } else {
        crate::println!("rxen: serial input to d{next} (Ctrl-A three times to switch)");
    }
}

/// Called first thing by the panic path.
pub fn enter_panic_mode() {
    PANICKING.store(true, Ordering::SeqCst);
}

fn with_serial_raw(f: impl FnOnce(&mut Serial)) {
    if PANICKING.load(Ordering::Relaxed) {
        // SAFETY: after a panic, the other CPUs are being stopped and may
        // hold the lock forever; garbled output beats no output.
        let serial = unsafe { SERIAL.force_get() };
        f(serial);
    } else {
        let mut serial = SERIAL.lock();
        f(&mut serial);
    }
}

/// A log line: to the serial line and into the console ring.
fn with_serial(f: impl FnOnce(&mut SerialWriter)) {
    with_serial_raw(|serial| f(&mut SerialWriter(serial)));
}

struct SerialWriter<'a>(&'a mut Serial);

impl SerialWriter<'_> {
    /// Ends a partial line of dom0's first, so the log line starts clean.
    fn start_line(&mut self) {
        if !AT_LINE_START.swap(true, Ordering::Relaxed) {
            self.0.write_bytes(b"\r\n");
        }
    }
}

impl Write for SerialWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if !PANICKING.load(Ordering::Relaxed) {
            ring::append(s.as_bytes());
        }
        // Serial terminals want CR LF.
        for (i, part) in s.split('\n').enumerate() {
            if i > 0 {
                self.0.write_bytes(b"\r\n");
            }
            self.0.write_bytes(part.as_bytes());
        }
        Ok(())
    }
}

/// `info!`-level line that always appears, whatever `loglvl=` says: used for
/// the few lines that tests and operators rely on.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => { $crate::console::print_line(format_args!($($arg)*)) };
}

/// Output a domain writes outside its ring (console_io, port 0xE9): the
/// control domain's goes to the serial line as it is, another's into
/// `(dN)` lines.
pub fn guest_output(dom: &crate::domain::Domain, bytes: &[u8]) {
    if dom.is_control() {
        control::write(bytes);
    } else {
        dom.early_console.write(dom.id, bytes);
    }
}
