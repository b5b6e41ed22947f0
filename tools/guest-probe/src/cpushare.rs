//! CPU share as the guest itself sees it: Linux counts the time its vCPU
//! waited for a physical CPU as *steal* (from Xen's runstate area), so over
//! a window of CPU-bound work, busy / (busy + steal + idle) is the share of
//! a physical CPU the hypervisor gave it. Also: a parallel workload's CPU
//! time against its wall time (two vCPUs really run at once).

use std::fs;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The `cpu` line of /proc/stat, in clock ticks.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuTimes {
    pub busy: u64,
    pub idle: u64,
    pub steal: u64,
}

pub fn read_cpu_times() -> CpuTimes {
    let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
    let line = stat.lines().find(|l| l.starts_with("cpu ")).unwrap_or("");
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal
    CpuTimes {
        busy: at(0) + at(1) + at(2) + at(5) + at(6),
        idle: at(3) + at(4),
        steal: at(7),
    }
}

/// Result of a measured window.
pub struct Share {
    pub share: f64,
    pub steal: f64,
    /// Units of busy work done (comparable between guests).
    pub work: u64,
}

/// Sleeps until wall-clock second `start`, then spins until wall-clock
/// second `start + seconds`: guests sharing a CPU measure the same window
/// (by the clock they share), so none runs alone at its end while the
/// others have already stopped.
pub fn measure(start: u64, seconds: u64) -> Share {
    loop {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if now >= start {
            break;
        }
        thread::sleep(Duration::from_millis(200).min(Duration::from_secs(start - now)));
    }
    let before = read_cpu_times();
    let end = UNIX_EPOCH + Duration::from_secs(start + seconds);
    let mut work = 0u64;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    while SystemTime::now() < end {
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        work += 1;
    }
    let after = read_cpu_times();
    // Keep the CPU busy a little longer: a guest that noticed the end of
    // the window late (it was waiting for the CPU) must still be competing
    // with the others until it has read its counters, not running alone.
    let tail = end + Duration::from_secs(3);
    while SystemTime::now() < tail {
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
    }
    std::hint::black_box(x);
    let busy = after.busy.saturating_sub(before.busy) as f64;
    let steal = after.steal.saturating_sub(before.steal) as f64;
    let idle = after.idle.saturating_sub(before.idle) as f64;
    let total = (busy + steal + idle).max(1.0);
    Share {
        share: busy / total,
        steal: steal / total,
        work,
    }
}

/// Spins on `threads` threads for `seconds`; returns (CPU seconds used by
/// this process, wall seconds).
pub fn parallel(threads: usize, seconds: u64) -> (f64, f64) {
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            thread::spawn(move || {
                let end = Instant::now() + Duration::from_secs(seconds);
                let mut x = 1u64;
                while Instant::now() < end {
                    for _ in 0..10_000 {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    }
                }
                std::hint::black_box(x);
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    (process_cpu_seconds(), start.elapsed().as_secs_f64())
}

/// utime + stime of this process from /proc/self/stat (clock ticks of
/// 1/100 s on Linux).
fn process_cpu_seconds() -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name (in parentheses, may contain spaces): state,
    // ppid, pgrp, session, tty_nr, tpgid (may be -1), flags, minflt,
    // cminflt, majflt, cmajflt, utime, stime.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (tick(11) + tick(12)) as f64 / 100.0
}
