//! Memory: the scoped parse arena and the mimalloc shim it wraps.
pub mod arena;
pub mod malloc;
