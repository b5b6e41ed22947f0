//! The hypervisor log: every line carries the time since boot and the CPU
//! that wrote it, e.g. `[    1.234567] cpu1 rxen: 2 CPUs online`.
//! Levels follow Xen's `loglvl=` names (none, error, warning, info, debug,
//! all).

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

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
/// interleaving with other CPUs.
pub fn print_line(args: fmt::Arguments) {
    let ns = arch::time::since_boot_ns();
    let cpu = arch::cpu_index();
    with_serial(|w| {
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

/// Called first thing by the panic path.
pub fn enter_panic_mode() {
    PANICKING.store(true, Ordering::SeqCst);
}

fn with_serial(f: impl FnOnce(&mut SerialWriter)) {
    if PANICKING.load(Ordering::Relaxed) {
        // SAFETY: after a panic, the other CPUs are being stopped and may
        // hold the lock forever; garbled output beats no output.
        let serial = unsafe { SERIAL.force_get() };
        f(&mut SerialWriter(serial));
    } else {
        let mut serial = SERIAL.lock();
        f(&mut SerialWriter(&mut serial));
    }
}

struct SerialWriter<'a>(&'a mut Serial);

impl Write for SerialWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
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
