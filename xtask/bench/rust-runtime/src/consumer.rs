//! What every consumer reports of a turn, and what the three have in common.

use std::error::Error;

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// One turn as the user's loop saw it.
pub struct Turn {
    /// From starting the turn to its last event.
    pub seconds: f64,
    /// Notifications that reached the user's loop.
    pub notifications: usize,
    /// When each event naming the turn reached the user's loop (the server stamps exactly those lines).
    pub seen: Vec<u64>,
}

/// Whether a notification of the replayed turn names the turn: all but these two methods, which the server
/// sends about the account and the thread (`runtime_server.py` stamps the others).
pub fn names_turn(method: &str) -> bool {
    !matches!(method, "account/rateLimits/updated" | "thread/status/changed")
}
