//! Ours: `codex_app_server_types::client::Codex`, each turn read through `TurnHandle::next` to its end.

use std::time::Instant;

use codex_app_server_types::client::{Codex, CodexConfig};
use codex_app_server_types::ServerNotificationVariant as Variant;

use crate::clock::monotonic_ns;
use crate::consumer::{Result, Turn};
use crate::server::StandIn;

pub async fn run(server: &StandIn, turns: usize) -> Result<Vec<Turn>> {
    let codex = Codex::start(CodexConfig::default().codex_bin(&server.bin)).await?;
    let thread = codex.thread_start(Default::default()).await?;
    let mut out = Vec::with_capacity(turns);
    for _ in 0..turns {
        let mut seen = Vec::with_capacity(512);
        let mut notifications = 0;
        let start = Instant::now();
        let mut turn = thread.turn("go").await?;
        while let Some(event) = turn.next().await {
            let event = event?;
            let now = monotonic_ns();
            notifications += 1;
            // The server stamps only the lines naming the turn; the handle yields no others (the thread's
            // notifications go to the event subscriptions), the filter only makes sure.
            if !matches!(event.variant, Variant::AccountRateLimitsUpdated(_) | Variant::ThreadStatusChanged(_)) {
                seen.push(now);
            }
            std::hint::black_box(&event);
        }
        let seconds = start.elapsed().as_secs_f64();
        out.push(Turn { seconds, notifications, seen });
    }
    server.wait_stamps(turns).await?;
    Ok(out)
}
