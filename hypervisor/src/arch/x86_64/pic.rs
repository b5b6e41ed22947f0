//! The legacy 8259 interrupt controllers. rxen uses the local APIC only,
//! but firmware leaves the PICs routing the PIT to vector 8 — which would
//! look like a double fault. They are moved to vectors 0x20..0x2F and fully
//! masked.

use ::x86_64::instructions::port::Port;

pub fn disable() {
    let mut master_cmd = Port::<u8>::new(0x20);
    let mut master_data = Port::<u8>::new(0x21);
    let mut slave_cmd = Port::<u8>::new(0xA0);
    let mut slave_data = Port::<u8>::new(0xA1);
    // SAFETY: the standard 8259 initialisation sequence on the standard
    // ports; nothing else in rxen drives the PICs.
    unsafe {
        master_cmd.write(0x11); // ICW1: initialise, ICW4 follows
        slave_cmd.write(0x11);
        master_data.write(0x20); // ICW2: vector base
        slave_data.write(0x28);
        master_data.write(0x04); // ICW3: slave on IRQ2
        slave_data.write(0x02);
        master_data.write(0x01); // ICW4: 8086 mode
        slave_data.write(0x01);
        master_data.write(0xFF); // mask everything
        slave_data.write(0xFF);
    }
}
