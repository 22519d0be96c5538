//! Guest samples (`sampler.rs`) named by the image's symbols and counted:
//! the functions the guest's CPU was in (self) and under (inclusive).

use std::collections::HashMap;
use std::path::Path;

use crate::symbols::{Symbol, code_symbol_table};

use super::sampler::Stack;

/// Lines per view.
const TOP: usize = 15;
/// The busiest functions (by self) whose callers are listed.
const EXPLAINED: usize = 3;
/// Callers listed per function.
const CALLERS: usize = 4;

/// Finds the function of an address in an image's sorted symbols.
pub struct Symbolizer {
    symbols: Vec<Symbol>,
}

impl Symbolizer {
    /// The symbols of `linked`, an image as linked (`<image>.debug`: the
    /// shipped image has no `.symtab`).
    ///
    /// # Errors
    /// The file cannot be read or is not an ELF with symbols.
    pub fn from_file(linked: &Path) -> Result<Self, String> {
        let bytes =
            std::fs::read(linked).map_err(|error| format!("{}: {error}", linked.display()))?;
        let symbols =
            code_symbol_table(&bytes).map_err(|error| format!("{}: {error}", linked.display()))?;
        Ok(Self { symbols })
    }

    /// The function `address` lies in, if any.
    pub fn name(&self, address: u64) -> Option<&str> {
        let after = self
            .symbols
            .partition_point(|symbol| symbol.address <= address);
        let symbol = self.symbols.get(after.checked_sub(1)?)?;
        let end = symbol.address + u64::from(symbol.size);
        (address < end).then_some(symbol.name.as_str())
    }
}

/// The report of `stacks`: the busiest functions by self and by inclusive
/// samples, in percent of all samples.
pub fn report(title: &str, stacks: &[Stack], symbolizer: &Symbolizer) -> String {
    let total = stacks.len();
    let mut text = format!("guest profile, {title}: {total} samples\n");
    if total == 0 {
        return text;
    }
    let name = |address: u64| {
        symbolizer
            .name(address)
            .map_or_else(|| format!("{address:#x}"), str::to_owned)
    };
    let mut own: HashMap<String, usize> = HashMap::new();
    let mut under: HashMap<String, usize> = HashMap::new();
    for stack in stacks {
        let Some(&innermost) = stack.first() else {
            continue;
        };
        *own.entry(name(innermost)).or_default() += 1;
        let mut seen: Vec<String> = stack.iter().map(|&address| name(address)).collect();
        seen.sort();
        seen.dedup();
        for function in seen {
            *under.entry(function).or_default() += 1;
        }
    }
    let busiest = ranked(&own);
    text.push_str(&top("self", own, total));
    text.push_str(&top("inclusive", under, total));
    for (function, count) in busiest.into_iter().take(EXPLAINED) {
        text.push_str(&callers(stacks, &name, &function, count));
    }
    text
}

/// The callers of `function` (where it was innermost), in percent of its
/// `count` samples, callers outside it (through its own recursion).
fn callers(
    stacks: &[Stack],
    name: &impl Fn(u64) -> String,
    function: &str,
    count: usize,
) -> String {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for stack in stacks {
        let mut names = stack.iter().map(|&address| name(address));
        if names.next().as_deref() != Some(function) {
            continue;
        }
        let caller = names
            .find(|caller| caller != function)
            .unwrap_or_else(|| "(no caller)".into());
        *counts.entry(caller).or_default() += 1;
    }
    let mut text = format!("callers of {function}:\n");
    for (caller, calls) in ranked(&counts).into_iter().take(CALLERS) {
        let percent = calls as f64 * 100.0 / count as f64;
        text.push_str(&format!("  {percent:5.1}%  {caller}\n"));
    }
    text
}

/// `counts` largest first, ties by name.
fn ranked(counts: &HashMap<String, usize>) -> Vec<(String, usize)> {
    let mut sorted: Vec<(String, usize)> = counts
        .iter()
        .map(|(name, &count)| (name.clone(), count))
        .collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    sorted
}

/// The [`TOP`] largest `counts` as lines `  12.3%  name`.
fn top(view: &str, counts: HashMap<String, usize>, total: usize) -> String {
    let mut text = format!("by {view}:\n");
    for (name, count) in ranked(&counts).into_iter().take(TOP) {
        let percent = count as f64 * 100.0 / total as f64;
        text.push_str(&format!("  {percent:5.1}%  {name}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbolizer() -> Symbolizer {
        let symbol = |address, size, name: &str| Symbol {
            address,
            size,
            name: name.into(),
        };
        Symbolizer {
            symbols: vec![
                symbol(0x1000, 0x100, "idle"),
                symbol(0x1100, 0x80, "receive"),
                symbol(0x1200, 0x40, "copy"),
            ],
        }
    }

    #[test]
    fn addresses_fall_in_their_function_or_none() {
        let symbols = symbolizer();
        assert_eq!(symbols.name(0x1000), Some("idle"));
        assert_eq!(symbols.name(0x10ff), Some("idle"));
        assert_eq!(symbols.name(0x1100), Some("receive"));
        assert_eq!(symbols.name(0x1180), None, "between functions");
        assert_eq!(symbols.name(0xfff), None);
        assert_eq!(symbols.name(0x9000), None);
    }

    #[test]
    fn self_counts_the_innermost_and_inclusive_each_function_once() {
        let stacks = vec![
            vec![0x1210, 0x1110, 0x1120],
            vec![0x1010],
            vec![0x1110],
            vec![0x1120],
            vec![0x5000],
        ];
        let text = report("test", &stacks, &symbolizer());
        let starts = "guest profile, test: 5 samples\nby self:\n   40.0%  receive\n";
        assert!(text.starts_with(starts), "{text}");
        let inclusive = text.split("by inclusive:\n").nth(1).expect("two views");
        assert!(inclusive.starts_with("   60.0%  receive\n"), "{text}");
        assert!(text.contains("   20.0%  copy\n"), "{text}");
        assert!(text.contains("   20.0%  0x5000\n"), "{text}");
        let receive = text.split("callers of receive:\n").nth(1).expect("callers");
        assert!(receive.starts_with("  100.0%  (no caller)\n"), "{text}");
        let copy = text.split("callers of copy:\n").nth(1).expect("callers");
        assert!(copy.starts_with("  100.0%  receive\n"), "{text}");
    }
}
