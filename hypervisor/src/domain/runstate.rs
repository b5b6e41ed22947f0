//! Runstate accounting: how long each vCPU has been running, runnable
//! (waiting for a physical CPU: the guest's "steal" time), blocked and
//! offline, published in the guest's runstate area (VCPUOP 5) as Xen does.
//! Linux's steal clock reads it, so a guest can see its own CPU share.

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use rxen_xen_abi::vcpu::{
    RUNSTATE_BLOCKED, RUNSTATE_OFFLINE, RUNSTATE_RUNNABLE, RUNSTATE_RUNNING, XEN_RUNSTATE_UPDATE,
};

use super::memory::{GuestMemory, PAGE};
use crate::time;

/// Xen's four runstates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Runstate {
    Running = 0,
    Runnable = 1,
    Blocked = 2,
    Offline = 3,
}

impl Runstate {
    fn abi(self) -> i32 {
        match self {
            Self::Running => RUNSTATE_RUNNING,
            Self::Runnable => RUNSTATE_RUNNABLE,
            Self::Blocked => RUNSTATE_BLOCKED,
            Self::Offline => RUNSTATE_OFFLINE,
        }
    }
}

/// Per-vCPU accounting; updated by whichever CPU changes the state.
pub struct RunstateAccount {
    state: AtomicU8,
    entry_time: AtomicU64,
    time: [AtomicU64; 4],
    /// Guest-physical address of the guest's area (0 = none registered);
    /// translated once at registration (kernel memory does not move).
    area_gpa: AtomicU64,
}

impl RunstateAccount {
    pub fn new() -> Self {
        Self {
            state: AtomicU8::new(Runstate::Offline as u8),
            entry_time: AtomicU64::new(time::now_ns()),
            time: [const { AtomicU64::new(0) }; 4],
            area_gpa: AtomicU64::new(0),
        }
    }

    /// Moves to `state` now, adding the time spent in the previous one.
    pub fn change(&self, state: Runstate) {
        let now = time::now_ns();
        let old = self.state.swap(state as u8, Ordering::SeqCst);
        let since = self.entry_time.swap(now, Ordering::SeqCst);
        self.time[usize::from(old & 3)].fetch_add(now.saturating_sub(since), Ordering::SeqCst);
    }

    /// Nanoseconds spent in `state`, including the current stretch.
    pub fn time_in(&self, state: Runstate) -> u64 {
        let mut t = self.time[state as usize].load(Ordering::SeqCst);
        if self.state.load(Ordering::SeqCst) == state as u8 {
            t += time::now_ns().saturating_sub(self.entry_time.load(Ordering::SeqCst));
        }
        t
    }

    pub fn set_area(&self, gpa: u64) {
        self.area_gpa.store(gpa, Ordering::SeqCst);
    }

    /// The `vcpu_runstate_info` as the guest sees it.
    pub fn snapshot(&self) -> rxen_xen_abi::vcpu::VcpuRunstateInfo {
        let state = self.state.load(Ordering::SeqCst);
        let entry = self.entry_time.load(Ordering::SeqCst);
        rxen_xen_abi::vcpu::VcpuRunstateInfo {
            state: [
                Runstate::Running,
                Runstate::Runnable,
                Runstate::Blocked,
                Runstate::Offline,
            ][usize::from(state & 3)]
            .abi(),
            pad: 0,
            state_entry_time: entry,
            time: core::array::from_fn(|i| self.time[i].load(Ordering::SeqCst)),
        }
    }

    /// Writes the snapshot into the guest's area, with Xen's update flag
    /// around the write when the guest asked for it (VMASST 5).
    pub fn publish(&self, mem: &GuestMemory, update_flag: bool) {
        let gpa = self.area_gpa.load(Ordering::SeqCst);
        if gpa == 0 {
            return;
        }
        let info = self.snapshot();
        let bytes = zerocopy::IntoBytes::as_bytes(&info);
        // A bad area is the guest's problem: nothing is written then.
        if update_flag {
            let flagged = info.state_entry_time | XEN_RUNSTATE_UPDATE;
            let _ = mem.write(gpa + 8, &flagged.to_le_bytes());
            core::sync::atomic::fence(Ordering::SeqCst);
        }
        let _ = mem.write(gpa, bytes);
        core::sync::atomic::fence(Ordering::SeqCst);
    }
}

impl Default for RunstateAccount {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a 48-byte area at `gpa` stays inside one page (the guest's
/// per-CPU variable always does; rxen refuses one that does not).
pub fn fits_in_page(gpa: u64) -> bool {
    gpa % PAGE + 48 <= PAGE
}
