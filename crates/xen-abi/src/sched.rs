//! `sched_op` sub-operations and structures (`sched.h`).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::DomId;

/// Give up the CPU; no argument.
pub const SCHEDOP_YIELD: u64 = 0;
/// Block until an event is pending; no argument.
pub const SCHEDOP_BLOCK: u64 = 1;
/// Argument: [`SchedShutdown`].
pub const SCHEDOP_SHUTDOWN: u64 = 2;
/// Argument: [`SchedPoll`].
pub const SCHEDOP_POLL: u64 = 3;
/// Argument: [`SchedRemoteShutdown`].
pub const SCHEDOP_REMOTE_SHUTDOWN: u64 = 4;
/// Argument: [`SchedShutdown`]; records the reason without shutting down.
pub const SCHEDOP_SHUTDOWN_CODE: u64 = 5;
/// Argument: [`SchedWatchdog`].
pub const SCHEDOP_WATCHDOG: u64 = 6;
/// Argument: [`SchedPinOverride`].
pub const SCHEDOP_PIN_OVERRIDE: u64 = 7;

pub const SHUTDOWN_POWEROFF: u32 = 0;
pub const SHUTDOWN_REBOOT: u32 = 1;
pub const SHUTDOWN_SUSPEND: u32 = 2;
pub const SHUTDOWN_CRASH: u32 = 3;
pub const SHUTDOWN_WATCHDOG: u32 = 4;
pub const SHUTDOWN_SOFT_RESET: u32 = 5;
/// Highest valid reason.
pub const SHUTDOWN_MAX: u32 = 5;

/// A validated shutdown reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ShutdownReason {
    /// Exited normally: clean up and destroy.
    Poweroff = SHUTDOWN_POWEROFF,
    /// Destroy and restart.
    Reboot = SHUTDOWN_REBOOT,
    /// Save state for a later resume.
    Suspend = SHUTDOWN_SUSPEND,
    /// The guest crashed.
    Crash = SHUTDOWN_CRASH,
    /// The guest watchdog expired.
    Watchdog = SHUTDOWN_WATCHDOG,
    /// Reset the domain keeping its memory (kexec).
    SoftReset = SHUTDOWN_SOFT_RESET,
}

impl ShutdownReason {
    /// Decodes a guest-supplied reason; `None` above [`SHUTDOWN_MAX`].
    pub const fn from_u32(value: u32) -> Option<Self> {
        Some(match value {
            SHUTDOWN_POWEROFF => Self::Poweroff,
            SHUTDOWN_REBOOT => Self::Reboot,
            SHUTDOWN_SUSPEND => Self::Suspend,
            SHUTDOWN_CRASH => Self::Crash,
            SHUTDOWN_WATCHDOG => Self::Watchdog,
            SHUTDOWN_SOFT_RESET => Self::SoftReset,
            _ => return None,
        })
    }

    /// Lower-case name, as Xen's tools print it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Poweroff => "poweroff",
            Self::Reboot => "reboot",
            Self::Suspend => "suspend",
            Self::Crash => "crash",
            Self::Watchdog => "watchdog",
            Self::SoftReset => "soft_reset",
        }
    }
}

/// `struct sched_shutdown`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SchedShutdown {
    /// `SHUTDOWN_*`.
    pub reason: u32,
}

/// `struct sched_poll`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SchedPoll {
    /// Guest address of an array of `nr_ports` event-channel ports (u32).
    pub ports: u64,
    /// Number of ports.
    pub nr_ports: u32,
    /// Padding.
    pub pad: u32,
    /// Absolute system-time deadline in ns; 0 means none.
    pub timeout: u64,
}

/// `struct sched_remote_shutdown`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SchedRemoteShutdown {
    /// Domain to shut down.
    pub domain_id: DomId,
    /// Padding.
    pub pad: u16,
    /// `SHUTDOWN_*`.
    pub reason: u32,
}

/// `struct sched_watchdog`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SchedWatchdog {
    /// Watchdog id (0 creates one).
    pub id: u32,
    /// Timeout in seconds (0 destroys it).
    pub timeout: u32,
}

/// `struct sched_pin_override`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[repr(C)]
pub struct SchedPinOverride {
    /// Physical CPU to pin to; negative removes the override.
    pub pcpu: i32,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<SchedShutdown>() == 4);
    assert!(size_of::<SchedPoll>() == 24);
    assert!(offset_of!(SchedPoll, ports) == 0);
    assert!(offset_of!(SchedPoll, nr_ports) == 8);
    assert!(offset_of!(SchedPoll, timeout) == 16);
    assert!(size_of::<SchedRemoteShutdown>() == 8);
    assert!(offset_of!(SchedRemoteShutdown, reason) == 4);
    assert!(size_of::<SchedWatchdog>() == 8);
    assert!(size_of::<SchedPinOverride>() == 4);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_reason() {
        for v in 0..=SHUTDOWN_MAX {
            let r = ShutdownReason::from_u32(v).unwrap();
            assert_eq!(r as u32, v);
        }
        assert_eq!(ShutdownReason::from_u32(3), Some(ShutdownReason::Crash));
        assert_eq!(ShutdownReason::from_u32(6), None);
        assert_eq!(ShutdownReason::from_u32(u32::MAX), None);
        assert_eq!(ShutdownReason::SoftReset.name(), "soft_reset");
    }
}
