//! Whole-system behaviour of the credit scheduler on simulated time.

mod sim;

use rxen_credit_sched::{CpuMask, PcpuId, SchedConfig, VcpuId};
use sim::{median, pin, Behaviour::*, Sim, MS, US};

const SEC: u64 = 1_000 * MS;

#[test]
fn fairness_by_weight() {
    for cfg in [SchedConfig::default(), SchedConfig::with_tslice(10 * MS)] {
        let mut s = Sim::new(1, cfg);
        let weights = [256, 512, 1024];
        let ids: Vec<_> = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                s.domain(i as u32, w, 0);
                s.vcpu(i as u32, i as u32, pin(0), CpuBound)
            })
            .collect();
        s.run_until(20 * SEC);
        let shares: Vec<f64> = ids.iter().map(|&v| s.share(v, 20 * SEC)).collect();
        let total: f64 = shares.iter().sum();
        println!(
            "tslice {} ms: shares {shares:?} (total {total:.4})",
            cfg.tslice_ns / MS
        );
        assert!(total > 0.999);
        for (i, &w) in weights.iter().enumerate() {
            let expect = w as f64 / 1792.0;
            let err = (shares[i] - expect).abs() / expect;
            println!(
                "  weight {w}: {:.4} expected {expect:.4} error {:.2}%",
                shares[i],
                err * 100.0
            );
            assert!(
                err < 0.05,
                "weight {w}: share {} expected {expect}",
                shares[i]
            );
        }
    }
}

#[test]
fn caps() {
    for (cap, lo, hi) in [(25, 0.23, 0.27), (50, 0.47, 0.52), (10, 0.08, 0.11)] {
        let mut s = Sim::new(1, SchedConfig::default());
        s.domain(0, 256, cap);
        let v = s.vcpu(0, 0, pin(0), CpuBound);
        s.run_until(20 * SEC);
        let share = s.share(v, 20 * SEC);
        println!("cap {cap}: share {share:.4}");
        assert!((lo..=hi).contains(&share), "cap {cap}: share {share}");
    }
}

#[test]
fn cap_does_not_leak_to_others_and_two_vcpus_share_cap() {
    // A capped 2-vCPU domain (cap 100 = one pCPU in total) next to an
    // uncapped domain on 2 pCPUs: the capped one gets ~1 pCPU, the other
    // takes the rest.
    let mut s = Sim::new(2, SchedConfig::default());
    s.domain(0, 256, 100);
    s.domain(1, 256, 0);
    let a = [
        s.vcpu(0, 0, CpuMask::all(), CpuBound),
        s.vcpu(0, 1, CpuMask::all(), CpuBound),
    ];
    let b = s.vcpu(1, 2, CpuMask::all(), CpuBound);
    s.run_until(20 * SEC);
    let capped = s.share(a[0], 20 * SEC) + s.share(a[1], 20 * SEC);
    let other = s.share(b, 20 * SEC);
    println!("capped 2-vCPU domain (cap 100): {capped:.4} pCPUs, uncapped: {other:.4}");
    assert!((0.9..=1.05).contains(&capped), "{capped}");
    assert!(other > 0.9, "{other}");
}

#[test]
fn affinity_is_respected_under_stealing() {
    // 4 pCPUs, vCPUs with assorted affinities and behaviours; the simulator
    // asserts affinity at every decision. Check also per-pCPU time.
    let mut s = Sim::new(4, SchedConfig::with_tslice(10 * MS));
    let masks = [
        pin(0),
        CpuMask::from_bits(0b0011),
        CpuMask::from_bits(0b0110),
        CpuMask::from_bits(0b1100),
        CpuMask::from_bits(0b1010),
        CpuMask::all(),
        pin(3),
        CpuMask::from_bits(0b0101),
    ];
    for (i, &m) in masks.iter().enumerate() {
        s.domain(i as u32, 128 << (i % 3), 0);
        let b = if i % 2 == 0 {
            CpuBound
        } else {
            Periodic {
                run_ns: 2 * MS,
                sleep_ns: 3 * MS,
            }
        };
        s.vcpu(i as u32, i as u32, m, b);
    }
    s.run_until(5 * SEC);
    for (i, sv) in s.vcpus.iter().enumerate() {
        for (&c, &t) in &sv.cpu_time_per_pcpu {
            assert!(masks[i].contains(PcpuId(c)) || t == 0, "v{i} ran on cpu{c}");
        }
        assert!(sv.cpu_time > 0, "v{i} starved");
    }
    println!(
        "decisions {} migrations {} busy {:?}",
        s.decisions, s.steals, s.busy
    );
    assert!(s.steals > 0);
    // Running vCPUs are never moved to make room (as in Xen), so a pCPU whose
    // only candidates are running elsewhere may idle now and then.
    assert!(
        s.busy.iter().all(|&b| b > 5 * SEC * 70 / 100),
        "{:?}",
        s.busy
    );
}

#[test]
fn no_starvation() {
    // A light domain against two heavy ones on one pCPU: it still gets its
    // (small) share, in regular portions.
    for (low_w, heavy_w) in [(64u32, 1024u32), (16, 4096)] {
        let mut s = Sim::new(1, SchedConfig::default());
        s.domain(0, low_w, 0);
        s.domain(1, heavy_w, 0);
        s.domain(2, heavy_w, 0);
        let low = s.vcpu(0, 0, pin(0), CpuBound);
        let h1 = s.vcpu(1, 1, pin(0), CpuBound);
        let h2 = s.vcpu(2, 2, pin(0), CpuBound);
        s.run_until(SEC);
        s.reset_stats();
        s.run_until(21 * SEC);
        let shares = [low, h1, h2].map(|v| s.share(v, 20 * SEC));
        let expect = low_w as f64 / (low_w + 2 * heavy_w) as f64;
        println!(
            "weight {low_w} vs {heavy_w} vs {heavy_w}: shares {shares:?} (low expected {expect:.4}); longest wait of low: {} ms",
            s.get(low).max_wait / MS
        );
        assert!(shares[0] > 0.0);
        assert!(
            (shares[0] - expect).abs() / expect < 0.25,
            "{} vs {expect}",
            shares[0]
        );
        assert!((shares[1] - shares[2]).abs() < 0.02);
        // It runs a whole slice at a time, so the gaps are ~ slice / share.
        let bound = (2.0 * SchedConfig::default().tslice_ns as f64 / expect) as u64;
        assert!(s.get(low).max_wait < bound);
    }

    // Equal weights, many vCPUs: every runnable vCPU runs at least once
    // every N slices (N = number of competitors).
    let mut s = Sim::new(1, SchedConfig::default());
    let n = 6;
    for i in 0..n {
        s.domain(i, 256, 0);
        s.vcpu(i, i, pin(0), CpuBound);
    }
    s.run_until(SEC);
    s.reset_stats();
    s.run_until(11 * SEC);
    let slice = SchedConfig::default().tslice_ns;
    for sv in &s.vcpus {
        println!(
            "v{}: share {:.4}, longest wait {} ms",
            sv.id.0,
            sv.cpu_time as f64 / (10 * SEC) as f64,
            sv.max_wait / MS
        );
        assert!(
            sv.max_wait <= n as u64 * slice,
            "v{} waited {} ms",
            sv.id.0,
            sv.max_wait / MS
        );
        let share = sv.cpu_time as f64 / (10 * SEC) as f64;
        assert!((share - 1.0 / n as f64).abs() < 0.01);
    }
}

#[test]
fn wakeup_latency_with_boost() {
    let mut s = Sim::new(1, SchedConfig::default());
    for d in 0..3 {
        s.domain(d, 256, 0);
    }
    let io = s.vcpu(
        0,
        0,
        pin(0),
        Periodic {
            run_ns: 100 * US,
            sleep_ns: 5 * MS,
        },
    );
    s.vcpu(1, 1, pin(0), CpuBound);
    s.vcpu(2, 2, pin(0), CpuBound);
    // Skip the start, where every vCPU is boosted by its first wake-up.
    s.run_until(SEC);
    s.reset_stats();
    s.run_until(11 * SEC);
    let lat = &s.get(io).wake_latencies;
    let (med, max) = (median(lat), *lat.iter().max().unwrap());
    println!(
        "I/O vCPU: {} wake-ups, latency median {} us, max {} us; share {:.4}",
        lat.len(),
        med / US,
        max / US,
        s.share(io, 10 * SEC)
    );
    // Every wake-up is served within the rate limit (1 ms), far below a slice.
    assert!(max <= SchedConfig::default().ratelimit_ns);
    assert!(lat.len() > 1800);
    // It got (nearly) all the CPU it asked for: 0.1 / 5.1.
    assert!(s.share(io, 10 * SEC) > 0.019);

    // Without boost (the I/O vCPU is itself CPU-heavy: over its share) the
    // latency is that of the queue: contrast for the report.
    let mut s = Sim::new(1, SchedConfig::default());
    for d in 0..3 {
        s.domain(d, 256, 0);
    }
    let busy_io = s.vcpu(
        0,
        0,
        pin(0),
        Periodic {
            run_ns: 20 * MS,
            sleep_ns: 5 * MS,
        },
    );
    s.vcpu(1, 1, pin(0), CpuBound);
    s.vcpu(2, 2, pin(0), CpuBound);
    s.run_until(10 * SEC);
    let lat = &s.get(busy_io).wake_latencies;
    println!(
        "heavy periodic vCPU: latency median {} us, max {} us, share {:.4}",
        median(lat) / US,
        lat.iter().max().unwrap() / US,
        s.share(busy_io, 10 * SEC)
    );
}

#[test]
fn work_stealing() {
    // 4 CPU-bound vCPUs, all-CPU affinity, 2 pCPUs: both pCPUs ~100% busy,
    // equal shares.
    let mut s = Sim::new(2, SchedConfig::default());
    for i in 0..4 {
        s.domain(i, 256, 0);
        s.vcpu(i, i, CpuMask::all(), CpuBound);
    }
    s.run_until(10 * SEC);
    let util = s.utilisation(10 * SEC);
    let shares: Vec<f64> = s
        .vcpus
        .iter()
        .map(|v| v.cpu_time as f64 / (10 * SEC) as f64)
        .collect();
    println!("2 pCPUs / 4 vCPUs: utilisation {util:?}, shares {shares:?}");
    assert!(util.iter().all(|&u| u > 0.999));
    assert!(shares.iter().all(|&x| (x - 0.5).abs() < 0.05), "{shares:?}");

    // An idle pCPU picks up work from a busy one: all vCPUs start pinned to
    // pCPU 0, then the affinity is widened.
    let mut s = Sim::new(2, SchedConfig::default());
    let mut ids = Vec::new();
    for i in 0..4 {
        s.domain(i, 256, 0);
        ids.push(s.vcpu(i, i, pin(0), CpuBound));
    }
    s.run_until(SEC);
    assert_eq!(s.busy[1], 0);
    for &v in &ids {
        s.set_affinity(v, CpuMask::all());
    }
    s.reset_stats();
    s.run_until(11 * SEC);
    let util = s.utilisation(10 * SEC);
    println!(
        "after widening affinity: utilisation {util:?}, migrations {}",
        s.steals
    );
    assert!(util.iter().all(|&u| u > 0.999), "{util:?}");
}

#[test]
fn idle_cpu_steals_on_wake() {
    // pCPU 1 goes idle when its only vCPU blocks; work queued on pCPU 0 is
    // picked up by pCPU 1 (kick from schedule on pCPU 0 / steal).
    let mut s = Sim::new(2, SchedConfig::default());
    for i in 0..3 {
        s.domain(i, 256, 0);
    }
    s.vcpu(0, 0, CpuMask::all(), CpuBound);
    s.vcpu(1, 1, CpuMask::all(), CpuBound);
    s.vcpu(
        2,
        2,
        CpuMask::all(),
        Periodic {
            run_ns: 3 * MS,
            sleep_ns: 7 * MS,
        },
    );
    s.run_until(10 * SEC);
    let util = s.utilisation(10 * SEC);
    println!(
        "3 vCPUs / 2 pCPUs: utilisation {util:?}, migrations {}",
        s.steals
    );
    assert!(util.iter().all(|&u| u > 0.99), "{util:?}");
}

#[test]
fn multi_vcpu_domain_weight_is_per_vcpu() {
    // Xen's credit1 makes weight per *active* vCPU (csched_acct uses
    // weight × active vCPUs): a domain with 2 busy vCPUs gets twice the CPU
    // of a 1-vCPU domain of equal weight.
    let mut s = Sim::new(1, SchedConfig::default());
    s.domain(0, 256, 0);
    s.domain(1, 256, 0);
    let a0 = s.vcpu(0, 0, pin(0), CpuBound);
    let a1 = s.vcpu(0, 1, pin(0), CpuBound);
    let b = s.vcpu(1, 2, pin(0), CpuBound);
    s.run_until(20 * SEC);
    let da = s.share(a0, 20 * SEC) + s.share(a1, 20 * SEC);
    let db = s.share(b, 20 * SEC);
    println!(
        "2-vCPU domain {da:.4} vs 1-vCPU domain {db:.4} (ratio {:.3})",
        da / db
    );
    assert!((da / db - 2.0).abs() < 0.1, "{da} {db}");

    // Only *active* vCPUs count: if the second vCPU is mostly idle, the
    // domains are back to ~1:1 for their CPU-bound vCPUs.
    let mut s = Sim::new(1, SchedConfig::default());
    s.domain(0, 256, 0);
    s.domain(1, 256, 0);
    let a0 = s.vcpu(0, 0, pin(0), CpuBound);
    s.vcpu(
        0,
        1,
        pin(0),
        Periodic {
            run_ns: 50 * US,
            sleep_ns: 100 * MS,
        },
    );
    let b = s.vcpu(1, 2, pin(0), CpuBound);
    s.run_until(20 * SEC);
    let (x, y) = (s.share(a0, 20 * SEC), s.share(b, 20 * SEC));
    println!("busy vCPU of 2-vCPU domain (other idle) {x:.4} vs 1-vCPU domain {y:.4}");
    assert!((x / y - 1.0).abs() < 0.1, "{x} {y}");
}

#[test]
fn weights_across_pcpus() {
    // 2 pCPUs, domains with weight 512 (2 vCPUs) and 256 (2 vCPUs), all
    // floating: 4 busy vCPUs, 2 pCPUs -> 2:1 by weight (per vCPU, 0.667 vs 0.333).
    let mut s = Sim::new(2, SchedConfig::default());
    s.domain(0, 512, 0);
    s.domain(1, 256, 0);
    let a = [
        s.vcpu(0, 0, CpuMask::all(), CpuBound),
        s.vcpu(0, 1, CpuMask::all(), CpuBound),
    ];
    let b = [
        s.vcpu(1, 2, CpuMask::all(), CpuBound),
        s.vcpu(1, 3, CpuMask::all(), CpuBound),
    ];
    s.run_until(20 * SEC);
    let da: f64 = a.iter().map(|&v| s.share(v, 20 * SEC)).sum();
    let db: f64 = b.iter().map(|&v| s.share(v, 20 * SEC)).sum();
    println!("2 pCPUs: weight 512 domain {da:.4} pCPUs, weight 256 domain {db:.4} pCPUs");
    assert!(
        (da - 4.0 / 3.0).abs() < 0.1 && (db - 2.0 / 3.0).abs() < 0.1,
        "{da} {db}"
    );
}

#[test]
fn dump_looks_like_xen() {
    let mut s = Sim::new(2, SchedConfig::default());
    s.domain(0, 256, 0);
    s.domain(1, 512, 30);
    s.vcpu(0, 0, CpuMask::all(), CpuBound);
    s.vcpu(0, 1, CpuMask::all(), CpuBound);
    s.vcpu(1, 2, CpuMask::all(), CpuBound);
    s.vcpu(
        1,
        3,
        pin(1),
        Periodic {
            run_ns: MS,
            sleep_ns: MS,
        },
    );
    s.run_until(SEC + 3 * MS);
    let mut out = String::new();
    s.sched.dump(&mut out).unwrap();
    println!("{out}");
    assert!(out.contains("CPU[00]") && out.contains("CPU[01]"));
    assert!(out.contains("pri="));
}

#[test]
fn weights_hold_when_pinned_to_one_of_several_pcpus() {
    // The set-up: 2 pCPUs; three CPU-bound domains pinned to pCPU 1
    // with weights 256/512/1024, and a capped one alone on pCPU 0. Credit1
    // proper spreads the credit of *both* pCPUs over the pinned three, who
    // then never run out and share pCPU 1 equally; rxen splits each pCPU's
    // credit between the vCPUs allowed on it.
    let (mut s, pinned) = weighted_three_pinned_to_pcpu_1();
    s.domain(3, 256, 25);
    let capped = s.vcpu(3, 3, pin(0), CpuBound);
    s.run_until(20 * SEC);
    let sd = s.share(capped, 20 * SEC);
    assert_shares_follow_weights(&s, pinned, "alone");
    println!("capped alone on pCPU 0: {sd:.4}");
    assert!(sd <= 0.27, "{sd}");
}

/// Two pCPUs and three CPU-bound domains of weights 256, 512 and 1024
/// pinned to pCPU 1: the set-up both pinned-weights tests start from.
fn weighted_three_pinned_to_pcpu_1() -> (Sim, [VcpuId; 3]) {
    let mut s = Sim::new(2, SchedConfig::default());
    let pinned = [(0, 256), (1, 512), (2, 1024)].map(|(d, weight)| {
        s.domain(d, weight, 0);
        s.vcpu(d, d, pin(1), CpuBound)
    });
    (s, pinned)
}

/// The three pinned vCPUs' shares of 20 s stand as 1 : 2 : 4, their weights.
fn assert_shares_follow_weights(s: &Sim, [a, b, c]: [VcpuId; 3], beside: &str) {
    let [sa, sb, sc] = [a, b, c].map(|v| s.share(v, 20 * SEC));
    println!("pinned to pCPU 1 ({beside}): {sa:.4} {sb:.4} {sc:.4}");
    assert!(
        (sb / sa - 2.0).abs() < 0.2 && (sc / sa - 4.0).abs() < 0.4,
        "{beside}: {sa} {sb} {sc}"
    );
}

#[test]
fn weights_hold_beside_a_nearly_idle_control_domain() {
    // The same three pinned to pCPU 1, and a dom0 whose two vCPUs wake for
    // short bursts (a toolstack between commands), free to run anywhere or
    // pinned beside them. The credit such a vCPU is handed and never spends
    // must go to the busy ones (otherwise they all run out and share pCPU 1
    // equally), and its wake-ups must not rotate them round-robin.
    for dom0_affinity in [CpuMask::all(), pin(1)] {
        let (mut s, pinned) = weighted_three_pinned_to_pcpu_1();
        s.domain(9, 256, 0);
        for v in [8, 9] {
            s.vcpu(
                9,
                v,
                dom0_affinity,
                Periodic {
                    run_ns: 200 * US,
                    sleep_ns: 5 * MS,
                },
            );
        }
        s.run_until(20 * SEC);
        let beside = format!("beside a bursty dom0 {dom0_affinity:?}");
        assert_shares_follow_weights(&s, pinned, &beside);
    }
}
