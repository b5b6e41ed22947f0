//! How domains end, as on Xen: *shutdown* (the guest asked, or crashed;
//! its vCPUs stop and the control domain hears of it through
//! VIRQ_DOM_EXC), then *destruction* (XEN_DOMCTL_destroydomain, or rxen's
//! own action for boot-time domains): the scheduler, event channels, grant
//! mappings and memory are told to let go, in that order. A destroyed
//! domain whose frames others still map stays listed as dying until the
//! last of them is unmapped.
//!
//! Controller pauses (XEN_DOMCTL_pausedomain) are counted here too.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use rxen_domain_config::Action;
use rxen_xen_abi::errno::{self, Errno};
use rxen_xen_abi::evtchn::VIRQ_DOM_EXC;
use rxen_xen_abi::sched::ShutdownReason;

use super::memory::GuestMemory;
use super::vcpu::RunState;
use super::{builder, Domain, Origin};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum DomainState {
    Running = 0,
    /// Shutdown asked; vCPUs are leaving their CPUs.
    ShuttingDown = 1,
    /// Shut down (all vCPUs stopped), kept until destroyed.
    Shutdown = 2,
    /// Being destroyed.
    Dying = 3,
    /// Destroyed; listed until its last frame is released.
    Dead = 4,
}

/// Most controller pauses a domain can carry (Xen's limit).
const MAX_PAUSES: u32 = 255;
/// How long destroydomain waits for vCPUs to leave their CPUs before the
/// hypercall is continued (re-issued by the caller, as Xen's are).
const DESTROY_WAIT_NS: u64 = 2_000_000;

impl Domain {
    pub fn state(&self) -> DomainState {
        match self.state.load(Ordering::SeqCst) {
            0 => DomainState::Running,
            1 => DomainState::ShuttingDown,
            2 => DomainState::Shutdown,
            3 => DomainState::Dying,
            _ => DomainState::Dead,
        }
    }

    fn move_state(&self, from: DomainState, to: DomainState) -> bool {
        self.state
            .compare_exchange(from as u8, to as u8, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    pub fn is_running(&self) -> bool {
        self.state() == DomainState::Running
    }

    /// Whether it is being destroyed or gone (nothing may be delivered).
    pub fn is_dying(&self) -> bool {
        self.state() >= DomainState::Dying
    }

    pub fn state_name(&self) -> &'static str {
        match self.state() {
            DomainState::Running if self.is_paused() => "paused",
            DomainState::Running => "running",
            DomainState::ShuttingDown => "shutting down",
            DomainState::Shutdown => match self.shutdown_reason() {
                Some(ShutdownReason::Crash) => "crashed",
                Some(ShutdownReason::Reboot) => "rebooted",
                _ => "shut down",
            },
            DomainState::Dying => "dying",
            DomainState::Dead => "destroyed",
        }
    }

    /// Ends the domain for `reason` (once): stops its vCPUs; the last
    /// physical CPU to leave one of them completes the shutdown.
    pub fn shutdown(&self, reason: ShutdownReason) {
        if !self.move_state(DomainState::Running, DomainState::ShuttingDown) {
            return;
        }
        self.shutdown_reason.store(reason as u32, Ordering::SeqCst);
        if let Some(console) = &self.console {
            console.flush(self.id);
        }
        if self.is_control() {
            crate::console::control::flush();
        }
        let what = match reason {
            ShutdownReason::Poweroff => "powered off",
            ShutdownReason::Reboot => "rebooted",
            ShutdownReason::Crash => "crashed",
            ShutdownReason::Suspend => "suspended",
            ShutdownReason::Watchdog => "stopped by its watchdog",
            ShutdownReason::SoftReset => "asked for a soft reset",
        };
        crate::println!("rxen: d{} {} ({})", self.id, what, self.name);
        self.stop_vcpus();
    }

    fn stop_vcpus(&self) {
        for v in self.vcpus() {
            v.stop();
            crate::sched::kick(v);
        }
    }

    /// XEN_DOMCTL_resumedomain: a domain shut down for a suspend carries
    /// on, its vCPUs that were up runnable again, where they stopped (the
    /// toolstack has set the suspend hypercall's result by then).
    pub fn resume_from_suspend(&self) -> Result<(), Errno> {
        if self.state() != DomainState::Shutdown
            || self.shutdown_reason() != Some(ShutdownReason::Suspend)
        {
            return Err(errno::EINVAL);
        }
        for v in self.vcpus() {
            let back = if v.is_up() {
                RunState::Runnable
            } else {
                RunState::Down
            };
            v.set_state(back);
        }
        self.shutdown_reason.store(u32::MAX, Ordering::SeqCst);
        if !self.move_state(DomainState::Shutdown, DomainState::Running) {
            return Err(errno::EINVAL);
        }
        crate::println!("rxen: d{} resumed ({})", self.id, self.name);
        for v in self.vcpus() {
            if v.state() == RunState::Runnable {
                v.runstate.change(super::runstate::Runstate::Runnable);
                crate::sched::make_runnable(v);
            }
        }
        Ok(())
    }

    /// The configured action for how a boot-time domain ended.
    fn boot_action(&self) -> Option<Action> {
        let config = self.boot_config()?;
        Some(match self.shutdown_reason() {
            Some(ShutdownReason::Reboot) => config.on_reboot,
            Some(ShutdownReason::Crash) => config.on_crash,
            _ => config.on_poweroff,
        })
    }

    /// XEN_DOMCTL_pausedomain: one more controller pause; running vCPUs
    /// leave their CPUs at once.
    pub fn pause(&self) -> Result<(), Errno> {
        self.pause_count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_PAUSES).then_some(n + 1)
            })
            .map_err(|_| errno::EOVERFLOW)?;
        for v in self.vcpus() {
            crate::sched::kick(v);
        }
        Ok(())
    }

    /// XEN_DOMCTL_unpausedomain: one pause less; at none, runnable vCPUs
    /// are scheduled again.
    pub fn unpause(&self) -> Result<(), Errno> {
        let before = self
            .pause_count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .map_err(|_| errno::EINVAL)?;
        if before == 1 {
            for v in self.vcpus() {
                if v.state() == RunState::Runnable && !v.on_cpu() {
                    crate::sched::make_runnable(v);
                }
            }
        }
        Ok(())
    }

    /// Waits (briefly) until none of its vCPUs is on a physical CPU.
    pub fn wait_off_cpu(&self, ns: u64) -> bool {
        let deadline = crate::time::now_ns() + ns;
        loop {
            if self.vcpus().iter().all(|v| !v.on_cpu()) {
                return true;
            }
            if crate::time::now_ns() > deadline {
                return false;
            }
            core::hint::spin_loop();
        }
    }
}

/// Finishes a shutdown once none of the domain's vCPUs is on a physical
/// CPU (each CPU calls this after leaving a vCPU): the control domain is
/// told (VIRQ_DOM_EXC), and a boot-time domain gets its configured action.
pub fn reap(domain: &Arc<Domain>) {
    if domain.state() != DomainState::ShuttingDown || domain.vcpus().iter().any(|v| v.on_cpu()) {
        return;
    }
    if !domain.move_state(DomainState::ShuttingDown, DomainState::Shutdown) {
        return;
    }
    log_statistics(domain);
    notify_control();
    match &domain.origin {
        Origin::Control => control_domain_ended(domain),
        Origin::Boot(_) => boot_domain_ended(domain),
        // The toolstack decides (xl's monitor destroys or restarts it).
        Origin::Toolstack => {}
    }
}

/// Xen's behaviour when dom0 ends: the machine goes with it.
fn control_domain_ended(domain: &Domain) {
    let (what, ok) = match domain.shutdown_reason() {
        Some(ShutdownReason::Crash) => ("crashed", false),
        Some(ShutdownReason::Reboot) => ("rebooted", true),
        _ => ("halted", true),
    };
    crate::println!("rxen: the control domain {what}: powering the machine off");
    crate::domain::dump_domains();
    crate::arch::power::power_off(ok);
}

fn boot_domain_ended(domain: &Arc<Domain>) {
    let action = domain.boot_action().unwrap_or(Action::Destroy);
    if matches!(
        action,
        Action::CoredumpDestroy | Action::CoredumpRestart | Action::SoftReset
    ) {
        log::warn!(
            "d{}: '{}' is not supported yet: no core dump, no soft reset",
            domain.id,
            action.name()
        );
    }
    // rename-restart keeps no renamed copy yet: it restarts like restart.
    let restart = matches!(
        action,
        Action::Restart | Action::RenameRestart | Action::CoredumpRestart
    );
    if restart {
        builder::announce_build();
    }
    if action == Action::Preserve {
        crate::println!(
            "rxen: d{} preserved for inspection ({} kept, 'q' lists it)",
            domain.id,
            domain.name
        );
    } else {
        // Nothing else runs its vCPUs any more, so this cannot be told to
        // wait.
        let _ = destroy(domain);
    }
    if restart {
        crate::println!(
            "rxen: restarting {} (configured action: restart)",
            domain.name
        );
        let _ = builder::restart(domain);
    }
    power_off_if_idle();
}

/// Without a control domain, rxen powers the machine off when the last
/// domain has ended.
pub fn power_off_if_idle() {
    if crate::domain::control().is_some() || builder::build_pending() {
        return;
    }
    if running_count() == 0 {
        crate::println!("rxen: no domains left, powering off");
        crate::domain::dump_domains();
        crate::arch::power::power_off(true);
    }
}

/// Destroys `domain` (XEN_DOMCTL_destroydomain): every resource goes back,
/// except frames other domains still map. `Err(ERESTART)` if a vCPU is
/// still on a CPU: the hypercall is continued (see `hypercall::dispatch`).
pub fn destroy(domain: &Arc<Domain>) -> Result<(), Errno> {
    let state = domain.state();
    if state >= DomainState::Dead {
        return Ok(());
    }
    domain
        .state
        .store(DomainState::Dying as u8, Ordering::SeqCst);
    domain.stop_vcpus();
    if !domain.wait_off_cpu(DESTROY_WAIT_NS) {
        return Err(errno::ERESTART);
    }
    crate::sched::remove_domain(domain);
    crate::evtchn::teardown(domain);
    crate::grant::teardown(domain);
    if let Some(console) = &domain.console {
        console.close();
    }
    let memory = core::mem::replace(&mut *domain.memory.lock(), GuestMemory::empty());
    drop(memory);
    for v in domain.vcpus() {
        let page = v.vcpu_info_page.swap(0, Ordering::SeqCst);
        if page != 0 {
            super::release_frame(page);
        }
    }
    crate::mm::claims::release(core::mem::take(&mut domain.toolstack.lock().claimed_pages));
    domain
        .state
        .store(DomainState::Dead as u8, Ordering::SeqCst);
    crate::println!("rxen: d{} destroyed, memory returned", domain.id);
    let (_, free) = crate::mm::frames::stats();
    let (heap_used, heap_size) = crate::mm::heap::usage();
    crate::println!(
        "rxen: free memory {} MiB (heap: {} of {} KiB in use)",
        (free * 4096) >> 20,
        heap_used >> 10,
        heap_size >> 10
    );
    notify_control();
    finish_if_dead(domain.id);
    Ok(())
}

/// The last step: a dead domain none of whose frames is referenced any
/// more leaves the registry.
pub fn finish_if_dead(id: super::DomId) {
    let Some(domain) = super::get(id) else {
        return;
    };
    if domain.state() != DomainState::Dead || crate::mm::pages::held_by(id) != 0 {
        return;
    }
    if super::unregister(id).is_some() {
        log::info!("d{id}: gone");
        notify_control();
    }
}

/// VIRQ_DOM_EXC to the control domain: a domain's state changed.
fn notify_control() {
    if let Some(control) = crate::domain::control() {
        control.send_global_virq(VIRQ_DOM_EXC);
    }
}

fn log_statistics(domain: &Domain) {
    for v in domain.vcpus() {
        let cpu_ms = v.cpu_time() / 1_000_000;
        let exits = v.inner.lock().exit_counts;
        log::info!("d{}v{}: {} ms on CPU, {}", domain.id, v.id, cpu_ms, exits);
    }
}

/// Domains that have not ended: running, or on their way out (shut down
/// with its handler yet to destroy it, or a destroy under way on another
/// CPU, which must finish before the machine goes off). A domain kept for
/// inspection (`preserve`) has ended.
pub fn running_count() -> usize {
    crate::domain::all()
        .iter()
        .filter(|d| {
            let state = d.state();
            let kept = state == DomainState::Shutdown && d.boot_action() == Some(Action::Preserve);
            state < DomainState::Dead && !kept
        })
        .count()
}
