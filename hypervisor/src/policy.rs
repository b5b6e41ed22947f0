//! Who may do what: the privilege decisions of every hypercall family, in
//! one place, as Xen's XSM hooks are (its default "dummy" policy):
//!
//! * **privileged** (XSM_PRIV): only the control domain — domctl, sysctl,
//!   platform_op, mapping other domains' memory, reading the console;
//! * **target** (XSM_TARGET): a domain acting on itself, or the control
//!   domain acting on any domain — reservations, HVM parameters, event
//!   channels allocated for another domain, grant-table set-up;
//! * **hook** (XSM_HOOK): anyone — binding a port offered to you, mapping a
//!   grant made to you (the grant itself is the permission).
//!
//! A refusal is always `-EPERM`, as Xen gives.

use rxen_xen_abi::errno::{self, Errno};

use crate::domain::Domain;

/// XSM_PRIV: the control domain only.
pub fn privileged(caller: &Domain) -> Result<(), Errno> {
    if caller.is_control() {
        Ok(())
    } else {
        Err(errno::EPERM)
    }
}

/// XSM_TARGET: the caller itself, or the control domain on anyone.
pub fn may_target(caller: &Domain, target: &Domain) -> Result<(), Errno> {
    if caller.id == target.id {
        Ok(())
    } else {
        privileged(caller)
    }
}

/// domctl: every sub-op is the control domain's.
pub fn domctl(caller: &Domain) -> Result<(), Errno> {
    privileged(caller)
}

/// sysctl: every sub-op is the control domain's.
pub fn sysctl(caller: &Domain) -> Result<(), Errno> {
    privileged(caller)
}

/// platform_op (firmware, time, physical CPUs).
pub fn platform_op(caller: &Domain) -> Result<(), Errno> {
    privileged(caller)
}

/// Foreign mappings of another domain's memory (privcmd) and acquiring
/// its resources (grant frames).
pub fn map_foreign(caller: &Domain, target: &Domain) -> Result<(), Errno> {
    if caller.id == target.id {
        // Xen refuses a foreign map of oneself.
        return Err(errno::EINVAL);
    }
    privileged(caller)
}

/// CONSOLEIO_read: the control domain's. Writes are taken from every
/// domain into its `(dN)` log lines.
pub fn console_read(caller: &Domain) -> Result<(), Errno> {
    privileged(caller)
}

/// XEN_SYSCTL_readconsole-like reads of the hypervisor's state through
/// xen_version (command line, build id): Xen hides them from domUs.
pub fn xen_version_private(caller: &Domain) -> Result<(), Errno> {
    privileged(caller)
}
