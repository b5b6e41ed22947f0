//! COM1, the 16550 UART every PC and QEMU has at I/O port 0x3F8: the
//! hypervisor's log goes here.

use uart_16550::backend::PioBackend;
use uart_16550::{Config, Uart16550};

const COM1: u16 = 0x3F8;

pub struct Serial {
    uart: Option<Uart16550<PioBackend>>,
}

impl Serial {
    pub const fn new() -> Self {
        Self { uart: None }
    }

    /// Programs the UART (115200 8N1). A machine without COM1 keeps running
    /// silently: there is nowhere else to report it.
    pub fn init(&mut self) {
        // SAFETY: 0x3F8..0x3FF is COM1 on every PC; only this driver touches it.
        let Ok(mut uart) = (unsafe { Uart16550::new_port(COM1) }) else {
            return;
        };
        if uart.init(Config::default()).is_ok() {
            self.uart = Some(uart);
        }
    }

    /// One byte typed on the serial line, if any (non-blocking).
    pub fn read_byte(&mut self) -> Option<u8> {
        self.uart.as_mut()?.try_receive_byte().ok()
    }

    pub fn write_bytes(&mut self, bytes: &[u8]) {
        if let Some(uart) = self.uart.as_mut() {
            uart.send_bytes_exact(bytes);
        }
    }
}
