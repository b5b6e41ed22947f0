//! The `console_io` hypercall and the PV console ring page
//! (`struct xencons_interface`, `io/console.h`).

/// `console_io(CONSOLEIO_write, count, buffer)`.
pub const CONSOLEIO_WRITE: u64 = 0;
/// `console_io(CONSOLEIO_read, count, buffer)`.
pub const CONSOLEIO_READ: u64 = 1;

// Byte offsets in the ring page. Indices are free-running u32; a ring is
// indexed with `idx & (size - 1)`.
/// `in[]`: backend → guest (keyboard input).
pub const IN: usize = 0;
/// Size of `in[]`.
pub const IN_SIZE: u32 = 1024;
/// `out[]`: guest → backend.
pub const OUT: usize = 1024;
/// Size of `out[]`.
pub const OUT_SIZE: u32 = 2048;
/// `in_cons` (u32), advanced by the guest.
pub const IN_CONS: usize = 3072;
/// `in_prod` (u32), advanced by the backend.
pub const IN_PROD: usize = 3076;
/// `out_cons` (u32), advanced by the backend.
pub const OUT_CONS: usize = 3080;
/// `out_prod` (u32), advanced by the guest.
pub const OUT_PROD: usize = 3084;
/// `connection` (u8): `XENCONSOLE_*`.
pub const CONNECTION: usize = 3088;

/// `connection` value: the backend is connected.
pub const XENCONSOLE_CONNECTED: u8 = 0;
/// `connection` value: the backend is gone.
pub const XENCONSOLE_DISCONNECTED: u8 = 1;

const _: () = {
    assert!(OUT == IN + IN_SIZE as usize);
    assert!(IN_CONS == OUT + OUT_SIZE as usize);
    assert!(CONNECTION < crate::PAGE_SIZE);
};

/// The first contiguous run of unread bytes in a ring of `size` bytes (a
/// power of two) with consumer index `cons` and producer index `prod`.
///
/// Returns `(start, len)`: `len` bytes at ring offset `start`. When the
/// unread data wraps past the end of the ring, only the part up to the end
/// is returned; advance `cons` by `len` and call again for the rest.
/// `len == 0` means the ring is empty.
///
/// Returns `None` when the indices cannot be valid (more than `size` bytes
/// in flight, e.g. `prod` behind `cons`) or `size` is not a power of two.
pub const fn ring_pending(cons: u32, prod: u32, size: u32) -> Option<(u32, u32)> {
    if !size.is_power_of_two() {
        return None;
    }
    let in_flight = prod.wrapping_sub(cons);
    if in_flight > size {
        return None;
    }
    let start = cons & (size - 1);
    let to_end = size - start;
    let len = if in_flight < to_end {
        in_flight
    } else {
        to_end
    };
    Some((start, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_simple() {
        assert_eq!(ring_pending(0, 0, OUT_SIZE), Some((0, 0)));
        assert_eq!(ring_pending(5, 5, OUT_SIZE), Some((5, 0)));
        assert_eq!(ring_pending(10, 30, OUT_SIZE), Some((10, 20)));
    }

    #[test]
    fn full_ring() {
        assert_eq!(ring_pending(0, 2048, OUT_SIZE), Some((0, 2048)));
        assert_eq!(ring_pending(100, 100 + 2048, OUT_SIZE), Some((100, 1948)));
        assert_eq!(ring_pending(0, 2049, OUT_SIZE), None);
    }

    #[test]
    fn data_wraps_past_ring_end() {
        // 30 bytes from offset 2040: 8 now, 22 on the next call.
        let (start, len) = ring_pending(2040, 2070, OUT_SIZE).unwrap();
        assert_eq!((start, len), (2040, 8));
        assert_eq!(ring_pending(2040 + len, 2070, OUT_SIZE), Some((0, 22)));
    }

    #[test]
    fn indices_wrap_past_u32_max() {
        let cons = u32::MAX - 3;
        let prod = cons.wrapping_add(10);
        assert_eq!(ring_pending(cons, prod, IN_SIZE), Some((1020, 4)));
        assert_eq!(
            ring_pending(cons.wrapping_add(4), prod, IN_SIZE),
            Some((0, 6))
        );
    }

    #[test]
    fn garbage_indices() {
        // prod behind cons: 2^32 - 10 bytes "in flight".
        assert_eq!(ring_pending(20, 10, OUT_SIZE), None);
        assert_eq!(ring_pending(0, u32::MAX, OUT_SIZE), None);
        assert_eq!(ring_pending(0, 0, 1000), None);
        assert_eq!(ring_pending(0, 0, 0), None);
    }
}
