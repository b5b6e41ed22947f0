//! A 32-bit PVH test kernel: an ELF32 (i386) executable with Xen's PVH
//! entry note, whose few instructions print a marker through console_io and
//! power the domain off with SCHEDOP_shutdown — the smallest real 32-bit
//! PVH guest, for the test that such kernels boot (Xen accepts them; Debian
//! ships none).

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::guest_cache_dir;

/// Where the kernel is loaded (and entered, in 32-bit protected mode).
const LOAD: u32 = 0x10_0000;
/// The line it prints on its console.
pub const PVH32_MARKER: &str = "RXEN-PVH32 a 32-bit PVH kernel runs";

/// The machine code: console_io(CONSOLEIO_write, len, msg), then
/// sched_op(SCHEDOP_shutdown, &poweroff), then halt. Hypercalls from 32-bit
/// mode take their arguments in EBX, ECX, EDX.
fn code(msg_len: u32) -> Vec<u8> {
    let reason = LOAD + 64;
    let msg = LOAD + 68;
    let mut c = Vec::new();
    let mov = |c: &mut Vec<u8>, opcode: u8, value: u32| {
        c.push(opcode);
        c.extend_from_slice(&value.to_le_bytes());
    };
    mov(&mut c, 0xB8, 18); // mov eax, __HYPERVISOR_console_io
    mov(&mut c, 0xBB, 0); // mov ebx, CONSOLEIO_write
    mov(&mut c, 0xB9, msg_len); // mov ecx, len
    mov(&mut c, 0xBA, msg); // mov edx, msg
    c.extend_from_slice(&[0x0F, 0x01, 0xD9]); // vmmcall
    mov(&mut c, 0xB8, 29); // mov eax, __HYPERVISOR_sched_op
    mov(&mut c, 0xBB, 2); // mov ebx, SCHEDOP_shutdown
    mov(&mut c, 0xB9, reason); // mov ecx, &reason
    c.extend_from_slice(&[0x0F, 0x01, 0xD9]); // vmmcall
    c.extend_from_slice(&[0xFA, 0xF4, 0xEB, 0xFD]); // cli; hlt; jmp hlt
    assert!(c.len() <= 64, "the code overran its data");
    c.resize(64, 0x90);
    c.extend_from_slice(&0u32.to_le_bytes()); // SHUTDOWN_poweroff
    c
}

/// The ELF32 file: header, a PT_NOTE with XEN_ELFNOTE_PHYS32_ENTRY, one
/// PT_LOAD of the code and message.
pub fn pvh32_elf() -> Vec<u8> {
    let msg = format!("{PVH32_MARKER}\n");
    let mut image = code(msg.len() as u32);
    image.extend_from_slice(msg.as_bytes());
    let mut note = Vec::new();
    for v in [4u32, 4, 18] {
        note.extend_from_slice(&v.to_le_bytes());
    }
    note.extend_from_slice(b"Xen\0");
    note.extend_from_slice(&LOAD.to_le_bytes());
    let (ehdr, phdr) = (52usize, 32usize);
    let note_at = ehdr + 2 * phdr;
    let data_at = 0x1000usize;
    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out.extend_from_slice(&3u16.to_le_bytes()); // EM_386
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&LOAD.to_le_bytes());
    out.extend_from_slice(&(ehdr as u32).to_le_bytes());
    out.extend_from_slice(&[0; 8]); // e_shoff, e_flags
    for v in [ehdr as u16, phdr as u16, 2, 40, 0, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let mut ph = |kind: u32, offset: usize, addr: u32, size: usize, align: u32| {
        for v in [
            kind,
            offset as u32,
            addr,
            addr,
            size as u32,
            size as u32,
            5,
            align,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    };
    ph(4, note_at, 0, note.len(), 4);
    ph(1, data_at, LOAD, image.len(), 0x1000);
    out.extend_from_slice(&note);
    out.resize(data_at, 0);
    out.extend_from_slice(&image);
    out
}

/// Writes the kernel under the guest cache and returns its path.
pub fn pvh32_test_kernel() -> Result<PathBuf> {
    let dir = guest_cache_dir();
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("rxen-pvh32-test.elf");
    fs::write(&path, pvh32_elf()).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_elf32_with_the_pvh_note() {
        let elf = pvh32_elf();
        assert_eq!(&elf[..5], b"\x7fELF\x01");
        assert_eq!(u16::from_le_bytes([elf[18], elf[19]]), 3);
        let note = &elf[116..136];
        assert_eq!(&note[12..16], b"Xen\0");
        assert_eq!(u32::from_le_bytes(note[16..20].try_into().unwrap()), LOAD);
        let text = String::from_utf8_lossy(&elf[0x1000..]);
        assert!(text.contains(PVH32_MARKER));
    }
}
