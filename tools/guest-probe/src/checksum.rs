//! `guest-probe checksum`: fills 64 MiB with a pattern, then for the given
//! time re-verifies every word and rewrites it with the next round's
//! pattern. A domain running this next to a misbehaving one notices if any
//! of its memory changes under it.

use std::time::{Duration, Instant};

/// Bytes under test.
pub const BYTES: usize = 64 << 20;

/// Word `i` of round `round`: distinct per word and per round.
pub fn pattern(seed: u64, round: u64, i: usize) -> u64 {
    let mut x = seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

pub struct Result {
    pub rounds: u64,
    pub mismatches: u64,
}

/// Runs for `seconds` over `words` words (at least one full round).
pub fn run(seconds: u64, words: usize, seed: u64) -> Result {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut mem: Vec<u64> = (0..words).map(|i| pattern(seed, 0, i)).collect();
    let mut rounds = 0;
    let mut mismatches = 0;
    let mut next_report = start + Duration::from_secs(10);
    loop {
        let round_mismatches: u64 = mem
            .iter_mut()
            .enumerate()
            .map(|(i, w)| {
                let bad = u64::from(*w != pattern(seed, rounds, i));
                *w = pattern(seed, rounds + 1, i);
                bad
            })
            .sum();
        rounds += 1;
        if round_mismatches != 0 {
            println!("RXEN-CHECKSUM round={rounds} mismatches={round_mismatches}");
        }
        mismatches += round_mismatches;
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        if now >= next_report {
            println!(
                "RXEN-CHECKSUM progress rounds={rounds} seconds={}",
                now.duration_since(start).as_secs()
            );
            next_report += Duration::from_secs(10);
        }
    }
    Result { rounds, mismatches }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_changes_per_round_and_word() {
        assert_ne!(pattern(1, 0, 0), pattern(1, 1, 0));
        assert_ne!(pattern(1, 0, 0), pattern(1, 0, 1));
        assert_ne!(pattern(1, 0, 0), pattern(2, 0, 0));
    }

    #[test]
    fn a_clean_run_has_no_mismatches() {
        let r = run(0, 1024, 5);
        assert_eq!((r.rounds, r.mismatches), (1, 0));
    }
}
