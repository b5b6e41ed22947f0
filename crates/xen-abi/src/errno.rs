//! Xen error codes (`errno.h`). They equal the Linux numbers.
//!
//! A failed hypercall returns the *negated* code in RAX; [`Errno::to_rax`]
//! produces that value and [`Errno::from_rax`] reads it back.

/// A Xen error code (the positive number, as in `errno.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(u16);

macro_rules! errnos {
    ($($name:ident = $value:literal,)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "` (", stringify!($value), ").")]
            pub const $name: Errno = Errno($value);
        )*

        impl Errno {
            /// The symbolic name (`"EINVAL"`), or `"E?"` for a code not listed here.
            pub const fn name(self) -> &'static str {
                match self.0 {
                    $($value => stringify!($name),)*
                    _ => "E?",
                }
            }
        }
    };
}

// EWOULDBLOCK (= EAGAIN) and EDEADLOCK (= EDEADLK) are aliases and left out
// so that `name` is unambiguous.
errnos! {
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    ENOEXEC = 8,
    EBADF = 9,
    ECHILD = 10,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    EXDEV = 18,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    ENFILE = 23,
    EMFILE = 24,
    ENOSPC = 28,
    EROFS = 30,
    EMLINK = 31,
    EDOM = 33,
    ERANGE = 34,
    EDEADLK = 35,
    ENAMETOOLONG = 36,
    ENOLCK = 37,
    ENOSYS = 38,
    ENOTEMPTY = 39,
    ENODATA = 61,
    ETIME = 62,
    EBADMSG = 74,
    EOVERFLOW = 75,
    EILSEQ = 84,
    ERESTART = 85,
    ENOTSOCK = 88,
    EMSGSIZE = 90,
    EOPNOTSUPP = 95,
    EADDRINUSE = 98,
    EADDRNOTAVAIL = 99,
    ENOBUFS = 105,
    EISCONN = 106,
    ENOTCONN = 107,
    ETIMEDOUT = 110,
    ECONNREFUSED = 111,
}

impl Errno {
    /// The positive code.
    pub const fn code(self) -> u16 {
        self.0
    }

    /// The value a failing hypercall leaves in RAX: `-code` as a 64-bit
    /// two's-complement number.
    pub const fn to_rax(self) -> u64 {
        (-(self.0 as i64)) as u64
    }

    /// Reads a hypercall result: `Some` when RAX holds `-code` for a code in
    /// 1..=4095 (Linux's error range), `None` for any other (success) value.
    pub const fn from_rax(rax: u64) -> Option<Errno> {
        let value = rax as i64;
        if value < 0 && value >= -4095 {
            Some(Errno((-value) as u16))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rax_round_trip() {
        assert_eq!(EINVAL.to_rax(), (-22i64) as u64);
        assert_eq!(ENOSYS.to_rax(), 0xFFFF_FFFF_FFFF_FFDA);
        assert_eq!(Errno::from_rax(EPERM.to_rax()), Some(EPERM));
        assert_eq!(Errno::from_rax(0), None);
        assert_eq!(Errno::from_rax(4096), None);
        assert_eq!(Errno::from_rax((-4096i64) as u64), None);
    }

    #[test]
    fn names() {
        assert_eq!(ETIME.name(), "ETIME");
        assert_eq!(EOPNOTSUPP.code(), 95);
        assert_eq!(
            Errno::from_rax((-15i64) as u64).map(Errno::name),
            Some("E?")
        );
    }
}
