//! `guest-probe tty`: runs a full-screen program (`xl top`, which is
//! `xentop` in its interactive mode) on a pseudo-terminal of its own, as if
//! somebody sat at it: lets it draw for a while, types keys (`q` to quit),
//! and prints what the screen showed at the end as plain text lines.
//!
//! The dom0 initramfs has no `script` or `expect`; this is the smallest
//! stand-in, with a small VT100 screen ([`text_lines`]) to replay what the
//! program drew (curses moves the cursor and redraws only what changed).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::sys::syscall as raw_syscall;

const SYS_IOCTL: u64 = 16;
const SYS_SETSID: u64 = 112;
const O_NOCTTY: i32 = 0o400;
const TIOCSPTLCK: u64 = 0x4004_5431;
const TIOCGPTN: u64 = 0x8004_5430;
const TIOCSWINSZ: u64 = 0x5414;
const TIOCSCTTY: u64 = 0x540E;

/// The terminal's size: wide enough for all of xentop's columns.
const ROWS: u16 = 30;
const COLS: u16 = 200;

/// What the program showed, and how it ended.
pub struct Screen {
    pub lines: Vec<String>,
    pub status: Option<i32>,
    pub bytes: usize,
}

fn ioctl(fd: i32, request: u64, arg: u64) -> io::Result<()> {
    // SAFETY: the requests used here read or write at most a 4-byte int or
    // an 8-byte winsize that `arg` points to, which the callers keep alive.
    let rc = unsafe { raw_syscall(SYS_IOCTL, [fd as u64, request, arg, 0, 0, 0]) };
    if rc < 0 {
        Err(io::Error::from_raw_os_error(-rc as i32))
    } else {
        Ok(())
    }
}

/// A new pseudo-terminal: its master and the path of its slave.
fn open_pty() -> io::Result<(File, String)> {
    let master = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(O_NOCTTY)
        .open("/dev/ptmx")?;
    let fd = master.as_raw_fd();
    let unlock: i32 = 0;
    ioctl(fd, TIOCSPTLCK, &unlock as *const i32 as u64)?;
    let mut n: u32 = 0;
    ioctl(fd, TIOCGPTN, &mut n as *mut u32 as u64)?;
    let size: [u16; 4] = [ROWS, COLS, 0, 0];
    ioctl(fd, TIOCSWINSZ, size.as_ptr() as u64)?;
    Ok((master, format!("/dev/pts/{n}")))
}

/// Runs `argv` on a new terminal for `seconds`, then types `keys` and gives
/// it 5 s to end (it is killed after that).
pub fn run(argv: &[String], seconds: u64, keys: &[u8]) -> io::Result<Screen> {
    let (mut master, slave_path) = open_pty()?;
    let slave = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(O_NOCTTY)
        .open(&slave_path)?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env("TERM", "vt100")
        .stdin(Stdio::from(slave.try_clone()?))
        .stdout(Stdio::from(slave.try_clone()?))
        .stderr(Stdio::from(slave));
    // SAFETY: between fork and exec the child only makes two system calls
    // (setsid, then the ioctl that makes its stdin, the terminal, its
    // controlling terminal), which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            raw_syscall(SYS_SETSID, [0; 6]);
            ioctl(0, TIOCSCTTY, 0)
        });
    }
    let mut child = cmd.spawn()?;
    // Our copies of the terminal's slave side go with the command: the
    // master reads end (EIO) once the program's are closed.
    drop(cmd);
    let mut reader = master.try_clone()?;
    let collector = thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        // Ends with EIO once the program and its children have closed the
        // terminal.
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    });
    thread::sleep(Duration::from_secs(seconds));
    master.write_all(keys)?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(100));
    };
    drop(master);
    let out = collector.join().unwrap_or_default();
    Ok(Screen {
        lines: text_lines(&out),
        status,
        bytes: out.len(),
    })
}

/// What the screen shows after `out` has been drawn on it: its non-empty
/// rows, trailing blanks cut. A small VT100: printable characters, CR, LF,
/// backspace, tab, cursor addressing and movement, erasing in the line and
/// the display, saving the cursor; colours and modes are ignored.
pub fn text_lines(out: &[u8]) -> Vec<String> {
    let mut screen = Grid::new(usize::from(ROWS), usize::from(COLS));
    let mut i = 0;
    while i < out.len() {
        let b = out[i];
        i += 1;
        match b {
            0x1B => i += screen.escape(&out[i..]),
            b'\r' => screen.col = 0,
            b'\n' => screen.line_feed(),
            0x08 => screen.col = screen.col.saturating_sub(1),
            b'\t' => screen.col = ((screen.col / 8 + 1) * 8).min(screen.cols - 1),
            0x20..=0x7E => screen.put(b),
            _ => {}
        }
    }
    screen.text()
}

/// The terminal's screen and cursor.
struct Grid {
    cells: Vec<Vec<u8>>,
    cols: usize,
    row: usize,
    col: usize,
    saved: (usize, usize),
}

impl Grid {
    fn new(rows: usize, cols: usize) -> Self {
        Self {
            cells: vec![vec![b' '; cols]; rows],
            cols,
            row: 0,
            col: 0,
            saved: (0, 0),
        }
    }

    fn rows(&self) -> usize {
        self.cells.len()
    }

    fn put(&mut self, b: u8) {
        if self.col >= self.cols {
            self.col = 0;
            self.line_feed();
        }
        self.cells[self.row][self.col] = b;
        self.col += 1;
    }

    fn line_feed(&mut self) {
        if self.row + 1 < self.rows() {
            self.row += 1;
        } else {
            self.cells.remove(0);
            self.cells.push(vec![b' '; self.cols]);
        }
    }

    /// Clears columns `from..to` of `row`.
    fn clear(&mut self, row: usize, from: usize, to: usize) {
        let cols = self.cols;
        self.cells[row][from.min(cols)..to.min(cols)].fill(b' ');
    }

    /// Acts on the escape sequence at the start of `rest` (after ESC);
    /// returns its length.
    fn escape(&mut self, rest: &[u8]) -> usize {
        match rest.first() {
            Some(b'[') => {
                let Some(end) = rest[1..].iter().position(|&c| (0x40..=0x7E).contains(&c)) else {
                    return rest.len();
                };
                let params: Vec<usize> = std::str::from_utf8(&rest[1..1 + end])
                    .unwrap_or("")
                    .trim_start_matches('?')
                    .split(';')
                    .map(|p| p.parse().unwrap_or(0))
                    .collect();
                self.csi(rest[1 + end], &params);
                end + 2
            }
            Some(b'(' | b')' | b'#') => rest.len().min(2),
            Some(b'7') => {
                self.saved = (self.row, self.col);
                1
            }
            Some(b'8') => {
                (self.row, self.col) = self.saved;
                1
            }
            Some(b'M') => {
                self.row = self.row.saturating_sub(1);
                1
            }
            Some(b'D' | b'E') => {
                if rest[0] == b'E' {
                    self.col = 0;
                }
                self.line_feed();
                1
            }
            Some(_) => 1,
            None => 0,
        }
    }

    /// A control sequence `ESC [ params final`.
    fn csi(&mut self, last: u8, params: &[usize]) {
        let p = |i: usize| params.get(i).copied().unwrap_or(0);
        let n = p(0).max(1);
        let (rows, cols) = (self.rows(), self.cols);
        match last {
            b'H' | b'f' => {
                self.row = (p(0).max(1) - 1).min(rows - 1);
                self.col = (p(1).max(1) - 1).min(cols - 1);
            }
            b'A' => self.row = self.row.saturating_sub(n),
            b'B' => self.row = (self.row + n).min(rows - 1),
            b'C' => self.col = (self.col + n).min(cols - 1),
            b'D' => self.col = self.col.saturating_sub(n),
            b'd' => self.row = (n - 1).min(rows - 1),
            b'G' => self.col = (n - 1).min(cols - 1),
            b'K' => match p(0) {
                0 => self.clear(self.row, self.col, cols),
                1 => self.clear(self.row, 0, self.col + 1),
                _ => self.clear(self.row, 0, cols),
            },
            b'J' => {
                let (from, to) = match p(0) {
                    0 => (self.row + 1, rows),
                    1 => (0, self.row),
                    _ => (0, rows),
                };
                for r in from..to {
                    self.clear(r, 0, cols);
                }
                match p(0) {
                    0 => self.clear(self.row, self.col, cols),
                    1 => self.clear(self.row, 0, self.col + 1),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn text(&self) -> Vec<String> {
        self.cells
            .iter()
            .map(|r| String::from_utf8_lossy(r).trim_end().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_screen_shows_the_last_frame() {
        let out =
            b"\x1b[H\x1b[2JNAME  STATE\x1b[K\x1b[2;1HDomain-0 -----r 10\x1b(B\x1b[m\r\n\x07end";
        assert_eq!(
            text_lines(out),
            ["NAME  STATE", "Domain-0 -----r 10", "end"]
        );
        // A redraw that only rewrites the changed digits.
        let redraw = [&out[..], b"\x1b[2;17H12\x1b[3;1H\x1b[K"].concat();
        assert_eq!(text_lines(&redraw), ["NAME  STATE", "Domain-0 -----r 12"]);
    }

    #[test]
    fn cursor_moves_and_erases() {
        assert_eq!(text_lines(b"abc\x1b[2Dx\x1b[3Cy"), ["axc  y"]);
        assert_eq!(text_lines(b"abcdef\x1b[1;3H\x1b[K"), ["ab"]);
        assert_eq!(text_lines(b"ab\x1b7\x1b[5;5Hz\x1b8c"), ["abc", "    z"]);
    }

    #[test]
    fn an_unfinished_escape_is_harmless() {
        assert_eq!(text_lines(b"ab\x1b["), ["ab"]);
        assert_eq!(text_lines(b"\x1b"), Vec::<String>::new());
    }
}
