//! `compare`: every consumer in fresh processes, round after round, and the Markdown table of their figures.

use std::collections::HashMap;
use std::process::Command;

use serde_json::Value;

use crate::consumer::Result;
use crate::measure::Inputs;
use crate::Side;

/// What one side gathered over every round.
#[derive(Default)]
struct Gathered {
    /// Seconds a turn, every turn of every burst process.
    turns: Vec<f64>,
    /// Seconds of each burst process's first turn.
    first_turns: Vec<f64>,
    /// Latencies of the paced processes' later turns, and of their first turns.
    latency: Vec<u64>,
    first_latency: Vec<u64>,
    /// Notifications a turn that reached the user's loop.
    notifications: usize,
}

pub fn compare(inputs: &Inputs, turns: usize, rounds: usize, pace_us: u64) -> Result<()> {
    let paced_turns = (turns / 5).max(2);
    let mut gathered: HashMap<&str, Gathered> = HashMap::new();
    for round in 0..rounds {
        // Who goes first changes every round, so a change of machine load falls on every side alike.
        for k in 0..Side::ALL.len() {
            let side = Side::ALL[(round + k) % Side::ALL.len()];
            let g = gathered.entry(side.name()).or_default();
            let burst = measure(side, inputs, turns, 0)?;
            let seconds: Vec<f64> = serde_json::from_value(burst["seconds"].clone())?;
            let notifications: Vec<usize> = serde_json::from_value(burst["notifications"].clone())?;
            g.notifications = notifications[0];
            g.first_turns.push(seconds[0]);
            g.turns.extend(seconds);
            let paced = measure(side, inputs, paced_turns, pace_us)?;
            let latency: Vec<Vec<u64>> = serde_json::from_value(paced["latency_ns"].clone())?;
            g.first_latency.extend(&latency[0]);
            g.latency.extend(latency[1..].iter().flatten());
        }
        eprintln!("round {} of {rounds} done", round + 1);
    }
    print_table(&mut gathered, turns, rounds, paced_turns, pace_us)
}

fn measure(side: Side, inputs: &Inputs, turns: usize, pace_us: u64) -> Result<Value> {
    let output = Command::new(std::env::current_exe()?)
        .args(["measure", "--side", side.name(), "--turns", &turns.to_string(), "--pace-us", &pace_us.to_string()])
        .arg("--stream")
        .arg(inputs.stream)
        .arg("--recording")
        .arg(inputs.recording)
        .output()?;
    if !output.status.success() {
        return Err(format!("{} failed: {}", side.name(), String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn percentile_us(values: &mut [u64], q: f64) -> f64 {
    values.sort_unstable();
    let at = ((q * values.len() as f64) as usize).min(values.len() - 1);
    values[at] as f64 / 1000.0
}

/// `value` with one decimal and its thousands grouped: 123,456.7.
fn grouped(value: f64) -> String {
    let text = format!("{value:.1}");
    let (whole, decimal) = text.split_once('.').expect("one decimal");
    let mut out = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    format!("{out}.{decimal}")
}

fn print_table(
    gathered: &mut HashMap<&str, Gathered>,
    turns: usize,
    rounds: usize,
    paced_turns: usize,
    pace_us: u64,
) -> Result<()> {
    // Throughput counts every notification of the turn, which the floor and codex-codes both hand over.
    let lines = gathered["floor"].notifications;
    if gathered["codex-codes"].notifications != lines {
        return Err("codex-codes and the floor read different turns".into());
    }
    let mut rows: Vec<(String, [f64; 3], &str, bool)> = Vec::new();
    let mut row = |name: &str, unit: &'static str, higher_is_better: bool, f: &mut dyn FnMut(&mut Gathered) -> f64| {
        let values = Side::ALL.map(|side| f(gathered.get_mut(side.name()).expect("every side ran")));
        rows.push((name.to_owned(), values, unit, higher_is_better));
    };
    row("throughput, median", "notifications/s", true, &mut |g| lines as f64 / median(&mut g.turns));
    row("a turn, median", "ms", false, &mut |g| median(&mut g.turns) * 1000.0);
    row("throughput, a process's first turn (median)", "notifications/s", true, &mut |g| {
        lines as f64 / median(&mut g.first_turns)
    });
    row("latency p50", "µs", false, &mut |g| percentile_us(&mut g.latency, 0.5));
    row("latency p99", "µs", false, &mut |g| percentile_us(&mut g.latency, 0.99));
    row("latency p50, a process's first turn", "µs", false, &mut |g| percentile_us(&mut g.first_latency, 0.5));
    row("latency p99, a process's first turn", "µs", false, &mut |g| percentile_us(&mut g.first_latency, 0.99));

    println!(
        "{lines} notifications a turn ({} of them reach `TurnHandle`); {rounds} rounds, each a fresh process a \
         consumer: {turns} turns written at once (throughput), then {paced_turns} turns paced {pace_us} µs a line \
         (latency)",
        gathered["ours"].notifications
    );
    println!();
    println!("| | ours | codex-codes | floor | ours vs codex-codes | ours vs floor |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, [ours, codes, floor], unit, higher) in &rows {
        let ratio = |other: f64| if *higher { ours / other } else { other / ours };
        println!(
            "| {name} | {} {unit} | {} {unit} | {} {unit} | {:.2}x | {:.2}x |",
            grouped(*ours),
            grouped(*codes),
            grouped(*floor),
            ratio(*codes),
            ratio(*floor)
        );
    }
    let [ours, codes, floor] = rows[0].1;
    println!();
    let verdict = |ok: bool| if ok { "met" } else { "missed" };
    println!(
        "- Throughput {:.2}x codex-codes (target at least 2x): {}; {:.2}x the floor (target at least 0.5x): {}.",
        ours / codes,
        verdict(ours >= 2.0 * codes),
        ours / floor,
        verdict(ours >= 0.5 * floor)
    );
    Ok(())
}
