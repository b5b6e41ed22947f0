//! Everything CPU-specific lives below here. Code outside `arch` names no
//! x86 register, table or instruction.

pub mod x86_64;
pub use self::x86_64::*;
