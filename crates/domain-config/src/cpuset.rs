//! Sets of physical CPUs, as written in xl's `cpus = "..."`.

use alloc::format;
use alloc::string::String;

/// Physical CPUs a [`CpuSet`] can name: 0 to `MAX_CPUS - 1`.
pub const MAX_CPUS: usize = 1024;

const WORDS: usize = MAX_CPUS / 64;

/// A set of physical CPU numbers (0 to [`MAX_CPUS`]` - 1`), as a bitmap.
///
/// Parsed from xl's CPU list syntax: comma-separated items, each `N`,
/// `N-M`, `all`, or one of those (except `all`) prefixed with `^` to remove
/// CPUs instead of adding them. Items apply left to right, starting from the
/// empty set, exactly as xl does: `"0-3,^1"` is {0, 2, 3}; `"all,^0"` is
/// every CPU but 0. xl's `node:`/`nodes:` items need the host's NUMA layout
/// and are not supported yet.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CpuSet {
    bits: [u64; WORDS],
}

impl Default for CpuSet {
    fn default() -> Self {
        Self::empty()
    }
}

impl CpuSet {
    /// No CPU.
    pub const fn empty() -> Self {
        Self { bits: [0; WORDS] }
    }

    /// Every CPU ([`MAX_CPUS`] of them): xl's `"all"`.
    pub const fn all() -> Self {
        Self {
            bits: [u64::MAX; WORDS],
        }
    }

    /// Whether `cpu` is in the set (false for numbers past [`MAX_CPUS`]).
    pub fn contains(&self, cpu: usize) -> bool {
        cpu < MAX_CPUS && self.bits[cpu / 64] & (1 << (cpu % 64)) != 0
    }

    /// Adds `cpu`; returns false (and does nothing) if it is past [`MAX_CPUS`].
    pub fn insert(&mut self, cpu: usize) -> bool {
        if cpu >= MAX_CPUS {
            return false;
        }
        self.bits[cpu / 64] |= 1 << (cpu % 64);
        true
    }

    /// Removes `cpu` (no-op if absent).
    pub fn remove(&mut self, cpu: usize) {
        if cpu < MAX_CPUS {
            self.bits[cpu / 64] &= !(1 << (cpu % 64));
        }
    }

    /// Number of CPUs in the set.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }

    /// Whether every CPU is in the set (as after `"all"`).
    pub fn is_all(&self) -> bool {
        self.bits.iter().all(|&w| w == u64::MAX)
    }

    /// The bitmap: bit `i % 64` of word `i / 64` is CPU `i`.
    pub fn words(&self) -> &[u64; WORDS] {
        &self.bits
    }

    /// The CPUs in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..MAX_CPUS).filter(|&c| self.contains(c))
    }

    /// Parses xl's CPU list syntax (see the type's documentation). Blanks
    /// around items and empty items are ignored. The error is a sentence
    /// without line number; the caller adds where it came from. An empty
    /// result is not an error here.
    pub fn parse(spec: &str) -> Result<CpuSet, String> {
        let mut set = CpuSet::empty();
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (remove, body) = match item.strip_prefix('^') {
                Some(rest) => (true, rest.trim_start()),
                None => (false, item),
            };
            if body.starts_with("node:") || body.starts_with("nodes:") {
                return Err(format!(
                    "`{item}`: NUMA node selections are not supported yet; list CPU numbers"
                ));
            }
            if body == "all" {
                if remove {
                    return Err(format!("`{item}`: \"^\" and \"all\" cannot be combined"));
                }
                set = CpuSet::all();
                continue;
            }
            let (lo, hi) = match body.split_once('-') {
                Some((a, b)) => (cpu_number(a, item)?, cpu_number(b, item)?),
                None => {
                    let n = cpu_number(body, item)?;
                    (n, n)
                }
            };
            if hi < lo {
                return Err(format!("`{item}`: the range ends before it starts"));
            }
            for cpu in lo..=hi {
                if remove {
                    set.remove(cpu);
                } else {
                    set.insert(cpu);
                }
            }
        }
        Ok(set)
    }
}

fn cpu_number(s: &str, item: &str) -> Result<usize, String> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{item}` is not a CPU number, a range `N-M` or `all`"
        ));
    }
    match s.parse::<usize>() {
        Ok(n) if n < MAX_CPUS => Ok(n),
        _ => Err(format!(
            "`{item}`: CPU {s} is out of range (CPUs are numbered 0 to {})",
            MAX_CPUS - 1
        )),
    }
}

/// Writes the set back in xl syntax: `all`, or ranges such as `0-3,5`
/// (empty for the empty set).
impl core::fmt::Display for CpuSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.is_all() {
            return f.write_str("all");
        }
        let mut first = true;
        let mut cpu = 0;
        while cpu < MAX_CPUS {
            if !self.contains(cpu) {
                cpu += 1;
                continue;
            }
            let start = cpu;
            while cpu + 1 < MAX_CPUS && self.contains(cpu + 1) {
                cpu += 1;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if start == cpu {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{cpu}")?;
            }
            cpu += 1;
        }
        Ok(())
    }
}

impl core::fmt::Debug for CpuSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "CpuSet(\"{self}\")")
    }
}
