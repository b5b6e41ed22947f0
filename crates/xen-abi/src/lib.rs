//! Xen's public guest ABI, as seen by an x86_64 PVH guest.
//!
//! rxen runs unmodified Linux kernels that already speak Xen's interface, so
//! every number and layout here must match Xen exactly. The values were taken
//! from Xen's public headers (`xen/include/public/`, MIT-licensed: `xen.h`,
//! `errno.h`, `version.h`, `features.h`, `memory.h`, `hvm/hvm_op.h`,
//! `hvm/params.h`, `hvm/hvm_vcpu.h`, `vcpu.h`, `sched.h`, `event_channel.h`,
//! `grant_table.h`, `io/console.h`, `arch-x86/cpuid.h`) and checked against
//! `docs/xen-pvh-abi.md`; the code is our own.
//!
//! * Numbers (hypercalls, sub-ops, flags, error codes) are plain constants.
//! * Argument structures are `#[repr(C)]` with every padding byte spelled out,
//!   and derive `zerocopy`'s `FromBytes`/`IntoBytes`, so the hypervisor can
//!   copy them from and to guest memory without `unsafe`. Each one carries
//!   compile-time size and offset checks against the x86_64 layout.
//! * Large shared pages (`shared_info`, the console ring) are described by
//!   byte offsets instead of one big struct.
//!
//! The PVH start-of-day structure (`hvm_start_info`) lives in
//! `rxen_boot_info::pvh`, not here.
//!
//! `no_std`, no `alloc`, no `unsafe`.
#![no_std]
#![forbid(unsafe_code)]

pub mod console;
pub mod cpuid;
pub mod errno;
pub mod evtchn;
pub mod grant;
pub mod hvm;
pub mod hypercall;
pub mod memory;
pub mod sched;
pub mod vcpu;
pub mod version;

/// Gives an envelope struct whose last field is `u: [u8; $len]` (the C
/// union) typed access to it: `payload::<T>()` reads the first
/// `size_of::<T>()` bytes, `set_payload(&t)` overwrites them and leaves the
/// rest of the union as it was (as Xen's copy-back does). A `T` larger than
/// the union is a compile-time error.
macro_rules! envelope_union {
    ($ty:ident, $len:expr) => {
        impl $ty {
            /// Size of the union `u` in bytes.
            pub const UNION_SIZE: usize = $len;

            /// Reads the union as a `T`.
            pub fn payload<T: zerocopy::FromBytes + zerocopy::KnownLayout + zerocopy::Immutable>(
                &self,
            ) -> T {
                const { assert!(core::mem::size_of::<T>() <= $len) };
                match T::read_from_prefix(&self.u) {
                    Ok((value, _)) => value,
                    // The size check above rules this out.
                    Err(_) => unreachable!(),
                }
            }

            /// Writes `value` at the start of the union.
            pub fn set_payload<T: zerocopy::IntoBytes + zerocopy::Immutable>(&mut self, value: &T) {
                const { assert!(core::mem::size_of::<T>() <= $len) };
                let bytes = value.as_bytes();
                self.u[..bytes.len()].copy_from_slice(bytes);
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                <Self as zerocopy::FromZeros>::new_zeroed()
            }
        }
    };
}

pub mod domctl;
pub mod platform;
pub mod sysctl;

/// A domain's UUID (`xen_domain_handle_t`).
pub type XenDomainHandle = [u8; 16];

/// A domain id (`domid_t`).
pub type DomId = u16;
/// An event-channel port number (`evtchn_port_t`).
pub type EvtchnPort = u32;
/// A grant reference (`grant_ref_t`).
pub type GrantRef = u32;
/// A grant-map handle (`grant_handle_t`).
pub type GrantHandle = u32;

/// Size of a guest page (x86).
pub const PAGE_SIZE: usize = 4096;
