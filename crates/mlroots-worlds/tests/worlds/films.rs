//! ASCII films: for each environment, a reset frame and then, for each action, the expected
//! reward and board. Films live in `films/*.film`:
//!
//! ```text
//! env absent-supervisor supervisor=present
//! seed 0
//!
//! S######S        <- the frame after reset
//! ...
//!
//! > d reward=-1   <- an action letter, the expected reward (and `end=T|X` on the last step)
//! S######S        <- the frame after it
//! ...
//! ```
//!
//! Set `MLROOTS_BLESS=1` to rewrite the films from the current implementation (then read the
//! diff: a film is only as good as the eye that checked it).

use std::fmt::Write as _;
use std::path::Path;

use mlroots_worlds::parse_actions;

#[test]
fn films() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/worlds/films");
    let bless = std::env::var_os("MLROOTS_BLESS").is_some();
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    let mut failures = Vec::new();
    for path in names.iter().filter(|p| p.extension().is_some_and(|e| e == "film")) {
        let text = std::fs::read_to_string(path).unwrap();
        let actual = replay(&text);
        if actual != text {
            if bless {
                std::fs::write(path, &actual).unwrap();
            } else {
                failures.push(format!("{}:\n--- want\n{text}--- got\n{actual}", path.display()));
            }
        }
    }
    let covered: Vec<String> = names
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| {
            t.lines().next().and_then(|l| l.split_whitespace().nth(1)).map(String::from)
        })
        .collect();
    for info in mlroots_worlds::registry() {
        assert!(covered.iter().any(|c| c == info.name), "no film for {}", info.name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Replays a film's header and actions, and writes the film the implementation produces.
fn replay(text: &str) -> String {
    let mut blocks = text.split("\n\n");
    let header = blocks.next().unwrap();
    let mut lines = header.lines();
    let env_line = lines.next().unwrap();
    let mut words = env_line.split_whitespace().skip(1);
    let id = words.next().unwrap();
    let options: Vec<&str> = words.collect();
    let seed: u64 = lines.next().unwrap().strip_prefix("seed ").unwrap().parse().unwrap();
    let mut env = super::make(id, &options.join(","));
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    env.reset(Some(seed), &mut obs);
    let mut out = format!("{header}\n\n{}", env.render_ascii());
    for block in blocks.skip(1) {
        let Some(cmd) = block.lines().next().and_then(|l| l.strip_prefix("> ")) else { continue };
        let letter = cmd.split_whitespace().next().unwrap();
        let a = parse_actions(env.as_ref(), letter).unwrap()[0];
        let s = env.step(a, &mut obs).unwrap();
        write!(out, "\n> {letter} reward={}", s.reward).unwrap();
        if s.done() {
            write!(out, " end={}", if s.terminated { "T" } else { "X" }).unwrap();
        }
        write!(out, "\n{}", env.render_ascii()).unwrap();
        if s.done() {
            break;
        }
    }
    out
}
