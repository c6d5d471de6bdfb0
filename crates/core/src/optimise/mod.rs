//! Layout optimisation without Bevy: the quadratic assignment solver at its core, and the
//! material flows whose transport effort it lowers.

pub mod flow;
pub mod layout;
pub mod qap;
pub mod spot;
pub mod synthetic;
