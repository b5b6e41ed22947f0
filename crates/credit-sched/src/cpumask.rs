//! A fixed-size set of physical CPUs.

use core::fmt;

use crate::PcpuId;

/// Largest number of physical CPUs a [`CpuMask`] (and so the scheduler) can describe.
pub const MAX_PCPUS: usize = 128;

/// A set of physical CPUs (bit `i` = pCPU `i`), up to [`MAX_PCPUS`].
///
/// Used for hard affinities and for the sets of pCPUs the hypervisor must
/// interrupt ("tickle") so that they call [`crate::CreditScheduler::schedule`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CpuMask(u128);

impl CpuMask {
    /// The empty set.
    pub const EMPTY: CpuMask = CpuMask(0);

    /// The empty set.
    pub const fn empty() -> Self {
        CpuMask(0)
    }

    /// pCPUs `0..n` (saturating at [`MAX_PCPUS`]).
    pub const fn first_n(n: usize) -> Self {
        if n >= MAX_PCPUS {
            CpuMask(u128::MAX)
        } else {
            CpuMask((1u128 << n) - 1)
        }
    }

    /// All pCPUs the mask type can describe.
    pub const fn all() -> Self {
        CpuMask(u128::MAX)
    }

    /// The set holding only `cpu` (empty if `cpu` is out of range).
    pub const fn single(cpu: PcpuId) -> Self {
        let i = cpu.0 as usize;
        if i < MAX_PCPUS {
            CpuMask(1u128 << i)
        } else {
            CpuMask(0)
        }
    }

    /// Builds a mask from its raw bits (bit `i` = pCPU `i`).
    pub const fn from_bits(bits: u128) -> Self {
        CpuMask(bits)
    }

    /// The raw bits (bit `i` = pCPU `i`).
    pub const fn bits(self) -> u128 {
        self.0
    }

    /// Whether `cpu` is in the set.
    pub const fn contains(self, cpu: PcpuId) -> bool {
        let i = cpu.0 as usize;
        i < MAX_PCPUS && self.0 & (1u128 << i) != 0
    }

    /// Adds `cpu` (ignored if out of range).
    pub fn insert(&mut self, cpu: PcpuId) {
        self.0 |= Self::single(cpu).0;
    }

    /// Removes `cpu`.
    pub fn remove(&mut self, cpu: PcpuId) {
        self.0 &= !Self::single(cpu).0;
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of pCPUs in the set.
    pub const fn count(self) -> u32 {
        self.0.count_ones()
    }

    /// The lowest-numbered pCPU in the set.
    pub fn first(self) -> Option<PcpuId> {
        if self.0 == 0 {
            None
        } else {
            Some(PcpuId(self.0.trailing_zeros()))
        }
    }

    /// Intersection.
    pub const fn and(self, other: CpuMask) -> CpuMask {
        CpuMask(self.0 & other.0)
    }

    /// Union.
    pub const fn or(self, other: CpuMask) -> CpuMask {
        CpuMask(self.0 | other.0)
    }

    /// The pCPUs in the set, lowest first.
    pub fn iter(self) -> impl Iterator<Item = PcpuId> {
        let mut bits = self.0;
        core::iter::from_fn(move || {
            if bits == 0 {
                None
            } else {
                let i = bits.trailing_zeros();
                bits &= bits - 1;
                Some(PcpuId(i))
            }
        })
    }
}

impl FromIterator<PcpuId> for CpuMask {
    fn from_iter<I: IntoIterator<Item = PcpuId>>(iter: I) -> Self {
        let mut m = CpuMask::empty();
        for c in iter {
            m.insert(c);
        }
        m
    }
}

impl fmt::Debug for CpuMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Formats like Xen's cpumask printing: `{0-3,6}`.
impl fmt::Display for CpuMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        let mut first = true;
        let mut iter = self.iter().map(|c| c.0).peekable();
        while let Some(start) = iter.next() {
            let mut end = start;
            while iter.peek() == Some(&(end + 1)) {
                end += 1;
                iter.next();
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if start == end {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn basics() {
        let mut m = CpuMask::empty();
        assert!(m.is_empty());
        m.insert(PcpuId(3));
        m.insert(PcpuId(127));
        m.insert(PcpuId(128)); // out of range: ignored
        assert_eq!(m.count(), 2);
        assert!(m.contains(PcpuId(3)) && m.contains(PcpuId(127)));
        assert!(!m.contains(PcpuId(128)));
        assert_eq!(m.first(), Some(PcpuId(3)));
        m.remove(PcpuId(3));
        assert_eq!(m.iter().collect::<alloc::vec::Vec<_>>(), [PcpuId(127)]);
        assert_eq!(CpuMask::first_n(4).count(), 4);
        assert_eq!(CpuMask::first_n(200), CpuMask::all());
    }

    #[test]
    fn display() {
        let m: CpuMask = [0, 1, 2, 3, 6, 8, 9].into_iter().map(PcpuId).collect();
        assert_eq!(format!("{m}"), "{0-3,6,8-9}");
        assert_eq!(format!("{}", CpuMask::empty()), "{}");
    }
}
