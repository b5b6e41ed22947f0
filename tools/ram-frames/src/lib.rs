//! A file cut into frames of one page each, every frame saying what it is,
//! so that the file can be put back together from a copy of a machine's
//! whole RAM: the page cache keeps each page of a file in one physical
//! page, and physical pages sit at page-aligned offsets of the RAM, in no
//! particular order. Frame layout (little-endian):
//!
//! ```text
//!   0  16  magic "RXEN-RAM-FRAME1\0"
//!  16   8  export id (one per export: stale frames of another are ignored)
//!  24   4  index of this frame
//!  28   4  frames in all
//!  32   4  bytes of the file in this frame
//!  36   4  reserved, 0
//!  40   8  FNV-1a of those bytes (a frame half overwritten is ignored)
//!  48  16  reserved, 0
//!  64      the bytes, zero-padded to the page's end
//! ```

#![no_std]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// One frame: a page.
pub const FRAME_SIZE: usize = 4096;
const HEADER: usize = 64;
/// The file's bytes one frame carries.
pub const PAYLOAD: usize = FRAME_SIZE - HEADER;
const MAGIC: &[u8; 16] = b"RXEN-RAM-FRAME1\0";

/// The frames of `data` for export `id`.
pub fn frames(id: u64, data: &[u8]) -> impl Iterator<Item = [u8; FRAME_SIZE]> + '_ {
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(PAYLOAD).collect()
    };
    let count = chunks.len() as u32;
    chunks.into_iter().enumerate().map(move |(i, chunk)| {
        let mut f = [0u8; FRAME_SIZE];
        f[..16].copy_from_slice(MAGIC);
        f[16..24].copy_from_slice(&id.to_le_bytes());
        f[24..28].copy_from_slice(&(i as u32).to_le_bytes());
        f[28..32].copy_from_slice(&count.to_le_bytes());
        f[32..36].copy_from_slice(&(chunk.len() as u32).to_le_bytes());
        f[40..48].copy_from_slice(&fnv1a(chunk).to_le_bytes());
        f[HEADER..HEADER + chunk.len()].copy_from_slice(chunk);
        f
    })
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn u32_at(page: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(page[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(page: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(page[at..at + 8].try_into().expect("8 bytes"))
}

/// Why a file could not be put back together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CollectError {
    /// No frame of the export was found.
    NotFound,
    /// Frames found, but not all of them.
    Missing { found: usize, count: usize },
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => write!(f, "no frame of the export is in the RAM"),
            Self::Missing { found, count } => {
                write!(f, "{found} of the export's {count} frames are in the RAM")
            }
        }
    }
}

/// Puts export `id` back together from pages offered one by one.
pub struct Collector {
    id: u64,
    count: Option<u32>,
    chunks: Vec<Option<Vec<u8>>>,
}

impl Collector {
    pub fn new(id: u64) -> Self {
        Self {
            id,
            count: None,
            chunks: Vec::new(),
        }
    }

    /// Looks at one page-aligned page of RAM; keeps it if it is a sound
    /// frame of this export (copies of one frame are the same bytes).
    pub fn offer(&mut self, page: &[u8]) {
        if page.len() != FRAME_SIZE || &page[..16] != MAGIC || u64_at(page, 16) != self.id {
            return;
        }
        let (index, count, len) = (u32_at(page, 24), u32_at(page, 28), u32_at(page, 32));
        let len = len as usize;
        if len > PAYLOAD || index >= count || self.count.is_some_and(|c| c != count) {
            return;
        }
        let data = &page[HEADER..HEADER + len];
        if fnv1a(data) != u64_at(page, 40) {
            return;
        }
        if self.count.is_none() {
            self.count = Some(count);
            self.chunks = vec![None; count as usize];
        }
        self.chunks[index as usize].get_or_insert_with(|| data.to_vec());
    }

    /// The file, if every frame was found.
    pub fn finish(self) -> Result<Vec<u8>, CollectError> {
        let Some(count) = self.count else {
            return Err(CollectError::NotFound);
        };
        let found = self.chunks.iter().filter(|c| c.is_some()).count();
        if found != count as usize {
            return Err(CollectError::Missing {
                found,
                count: count as usize,
            });
        }
        Ok(self.chunks.into_iter().flatten().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ram_with(frames: &[[u8; FRAME_SIZE]], order: &[usize], noise_pages: usize) -> Vec<u8> {
        let mut ram = Vec::new();
        for (n, &i) in order.iter().enumerate() {
            for k in 0..noise_pages {
                ram.extend((0..FRAME_SIZE).map(|b| (b * 7 + n * 13 + k) as u8));
            }
            ram.extend_from_slice(&frames[i]);
        }
        ram
    }

    fn collect(ram: &[u8], id: u64) -> Result<Vec<u8>, CollectError> {
        let mut c = Collector::new(id);
        ram.chunks(FRAME_SIZE).for_each(|p| c.offer(p));
        c.finish()
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn a_file_comes_back_from_frames_in_any_order_among_other_pages() {
        let file = data(3 * PAYLOAD + 17);
        let f: Vec<_> = frames(9, &file).collect();
        assert_eq!(f.len(), 4);
        let ram = ram_with(&f, &[2, 0, 3, 1, 2], 3);
        assert_eq!(collect(&ram, 9).unwrap(), file);
    }

    #[test]
    fn an_empty_file_is_one_frame() {
        let f: Vec<_> = frames(1, &[]).collect();
        assert_eq!(
            collect(&ram_with(&f, &[0], 1), 1).unwrap(),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn a_missing_frame_another_export_or_a_damaged_frame_is_told() {
        let file = data(2 * PAYLOAD);
        let f: Vec<_> = frames(5, &file).collect();
        assert_eq!(
            collect(&ram_with(&f, &[1], 0), 5),
            Err(CollectError::Missing { found: 1, count: 2 })
        );
        assert_eq!(
            collect(&ram_with(&f, &[0, 1], 0), 6),
            Err(CollectError::NotFound)
        );
        let mut damaged = f.clone();
        damaged[0][HEADER + 3] ^= 1;
        assert_eq!(
            collect(&ram_with(&damaged, &[0, 1], 0), 5),
            Err(CollectError::Missing { found: 1, count: 2 })
        );
        // A sound copy elsewhere makes up for a damaged one.
        let mut ram = ram_with(&damaged, &[0, 1], 0);
        ram.extend_from_slice(&f[0]);
        assert_eq!(collect(&ram, 5).unwrap(), file);
    }
}
