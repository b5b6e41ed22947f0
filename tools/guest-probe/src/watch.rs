//! What the toolstack's management commands change, as the guest sees it,
//! once a second: a counter (a paused guest's stops, and its wall clock is
//! right when it carries on), its memory (`MemTotal` falls when the balloon
//! driver gives pages back) and its online CPUs (`xl vcpu-set`). Like the
//! udev rule distributions ship, it brings a CPU the hypervisor added (Linux
//! makes it present, offline) online.

use std::fs;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One line every `period` for `seconds`:
/// `RXEN-WATCH n=<i> wall=<unix s.ms> up=<s.ms> memtotal_kib=<k> cpus=<n> mismatches=<m> gap_ms=<g>`
/// (`gap_ms`: the longest the guest did not run since the last line).
/// With `mib`, a region of that size is checked word by word against its
/// pattern at every tick and rewritten with the next one: `mismatches`
/// counts the words found changed so far (a save, restore or migration
/// that loses or corrupts a page shows there).
pub fn watch(seconds: u64, period: Duration, mib: usize) {
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut n = 0u64;
    let mut region = Region::new(mib);
    let gaps = Arc::new(AtomicU64::new(0));
    let gaps_seen = gaps.clone();
    thread::spawn(move || timestamps(&gaps_seen));
    while Instant::now() < end {
        online_new_cpus();
        let mismatches = region.check_and_advance();
        let gap_ms = gaps.swap(0, Ordering::SeqCst) / 1000;
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        println!(
            "RXEN-WATCH n={n} wall={wall:.3} up={:.3} memtotal_kib={} cpus={} mismatches={mismatches} gap_ms={gap_ms}",
            start.elapsed().as_secs_f64(),
            mem_total_kib().unwrap_or(0),
            online_cpus().unwrap_or(0)
        );
        n += 1;
        // The next tick on the schedule, so a pause shows as missing ticks
        // rather than as a drift.
        let next = start + period * u32::try_from(n).unwrap_or(u32::MAX);
        thread::sleep(next.saturating_duration_since(Instant::now()));
    }
}

/// Reads the wall clock every 10 ms for good, keeping in `max_gap` the
/// longest time (µs) between two reads since the watch loop last took it:
/// the time the guest did not run (a migration's downtime). The wall
/// clock, because Linux's monotonic clock stops while it is suspended.
fn timestamps(max_gap: &AtomicU64) {
    let wall_us = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64)
    };
    let mut last = wall_us();
    loop {
        thread::sleep(Duration::from_millis(10));
        let now = wall_us();
        max_gap.fetch_max(now.saturating_sub(last), Ordering::SeqCst);
        last = now;
    }
}

/// Memory the guest keeps a known pattern in (see `checksum::pattern`).
struct Region {
    words: Vec<u64>,
    round: u64,
    mismatches: u64,
}

const SEED: u64 = 0x5A5E_0F4E_570E_1100;

impl Region {
    fn new(mib: usize) -> Self {
        let words = (0..(mib << 20) / 8)
            .map(|i| crate::checksum::pattern(SEED, 0, i))
            .collect();
        Self {
            words,
            round: 0,
            mismatches: 0,
        }
    }

    /// Checks every word against this round's pattern and writes the next
    /// round's; the mismatches found so far.
    fn check_and_advance(&mut self) -> u64 {
        let round = self.round;
        for (i, w) in self.words.iter_mut().enumerate() {
            self.mismatches += u64::from(*w != crate::checksum::pattern(SEED, round, i));
            *w = crate::checksum::pattern(SEED, round + 1, i);
        }
        self.round += 1;
        self.mismatches
    }
}

/// `echo 1 > /sys/devices/system/cpu/cpuN/online` for every CPU that is
/// there and offline (what udev does in a distribution).
fn online_new_cpus() {
    let Ok(dir) = fs::read_dir("/sys/devices/system/cpu") else {
        return;
    };
    for entry in dir.flatten() {
        let path = entry.path().join("online");
        if fs::read_to_string(&path).is_ok_and(|v| v.trim() == "0") {
            let done = fs::write(&path, "1").is_ok();
            println!(
                "RXEN-CPU-ONLINE {} {}",
                entry.file_name().to_string_lossy(),
                if done { "ok" } else { "failed" }
            );
        }
    }
}

fn mem_total_kib() -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok()?;
    parse_mem_total(&meminfo)
}

fn parse_mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn online_cpus() -> Option<u32> {
    let online = fs::read_to_string("/sys/devices/system/cpu/online").ok()?;
    count_cpu_list(online.trim())
}

/// `0-1,3` → 3.
fn count_cpu_list(list: &str) -> Option<u32> {
    let mut count = 0;
    for part in list.split(',').filter(|p| !p.is_empty()) {
        count += match part.split_once('-') {
            Some((a, b)) => b.parse::<u32>().ok()?.checked_sub(a.parse().ok()?)? + 1,
            None => {
                part.parse::<u32>().ok()?;
                1
            }
        };
    }
    Some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(count_cpu_list("0"), Some(1));
        assert_eq!(count_cpu_list("0-1"), Some(2));
        assert_eq!(count_cpu_list("0-1,3,5-7"), Some(6));
        assert_eq!(count_cpu_list("x"), None);
        assert_eq!(count_cpu_list("3-1"), None);
    }

    #[test]
    fn mem_total() {
        let meminfo = "MemTotal:         234567 kB\nMemFree:  1000 kB\n";
        assert_eq!(parse_mem_total(meminfo), Some(234_567));
        assert_eq!(parse_mem_total("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn an_untouched_region_has_no_mismatches_and_a_changed_word_shows() {
        let mut r = Region::new(1);
        assert_eq!(r.check_and_advance(), 0);
        assert_eq!(r.check_and_advance(), 0);
        r.words[7] ^= 1;
        assert_eq!(r.check_and_advance(), 1);
        assert_eq!(r.check_and_advance(), 1);
    }
}
