//! codex-codes: its async client, `turn_start` then `next_message` until `turn/completed`.

use std::time::Instant;

use codex_codes::{AppServerBuilder, AsyncClient, Notification, ServerMessage, ThreadStartParams, TurnStartParams};
use serde_json::json;

use crate::clock::monotonic_ns;
use crate::consumer::{names_turn, Result, Turn};
use crate::server::StandIn;

pub async fn run(server: &StandIn, turns: usize) -> Result<Vec<Turn>> {
    let mut client = AsyncClient::start_with(AppServerBuilder::new().command(&server.bin)).await?;
    let thread = client.thread_start(&serde_json::from_value::<ThreadStartParams>(json!({}))?).await?;
    let thread_id = thread.thread.id.clone();
    let mut out = Vec::with_capacity(turns);
    for _ in 0..turns {
        let mut seen = Vec::with_capacity(512);
        let mut notifications = 0;
        let start = Instant::now();
        // Its params struct has every field of the protocol; JSON is the short way to fill the two needed.
        let input = json!({ "threadId": thread_id, "input": [{ "type": "text", "text": "go" }] });
        client.turn_start(&serde_json::from_value::<TurnStartParams>(input)?).await?;
        loop {
            match client.next_message().await? {
                None => return Err("the server closed its output during a turn".into()),
                Some(ServerMessage::Notification(notification)) => {
                    let now = monotonic_ns();
                    notifications += 1;
                    if names_turn(notification.method()) {
                        seen.push(now);
                    }
                    let done = matches!(notification, Notification::TurnCompleted(_));
                    std::hint::black_box(&notification);
                    if done {
                        break;
                    }
                }
                Some(ServerMessage::Request { .. }) => return Err("the replayed turn has no server request".into()),
            }
        }
        out.push(Turn { seconds: start.elapsed().as_secs_f64(), notifications, seen });
    }
    server.wait_stamps(turns).await?;
    Ok(out)
}
