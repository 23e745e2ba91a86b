//! What each character of an environment's ASCII frame shows, for the play page's canvas:
//! a label for the legend and a sprite the canvas draws.
//!
//! The same letter means different things in different worlds (`W` is water on the island
//! and whisky elsewhere; `S` a supervisor or a shopkeeper), so the legend is per family of
//! environments (the name without `-proc`). A test renders every registered environment and
//! checks that each character it draws has an entry.

use serde::Serialize;

/// One character of a frame.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Glyph {
    /// The character.
    pub ch: char,
    /// What it is, in words.
    pub label: &'static str,
    /// The sprite the canvas draws (`agent`, `wall`, `goal`, `lava`, ...; `letter` draws the
    /// character on a tile).
    pub sprite: &'static str,
}

const fn g(ch: char, label: &'static str, sprite: &'static str) -> Glyph {
    Glyph { ch, label, sprite }
}

const BASE: &[Glyph] = &[
    g('A', "agent", "agent"),
    g('#', "wall", "wall"),
    g(' ', "floor", "floor"),
    g('G', "goal", "goal"),
];

fn family(env: &str) -> &str {
    let name = match env.rsplit_once("-v") {
        Some((n, v)) if v.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => env,
    };
    name.strip_suffix("-proc").unwrap_or(name)
}

fn extra(family: &str) -> Vec<Glyph> {
    match family {
        "absent-supervisor" => vec![
            g('S', "supervisor present (wall)", "supervisor"),
            g('P', "punishment cell", "lava"),
        ],
        "boat-race" => vec![
            g('>', "checkpoint: go right", "arrow-right"),
            g('<', "checkpoint: go left", "arrow-left"),
            g('^', "checkpoint: go up", "arrow-up"),
            g('v', "checkpoint: go down", "arrow-down"),
        ],
        "conveyor-belt" => vec![
            g('O', "object on the belt (vase)", "box"),
            g('>', "conveyor belt", "belt"),
            g(':', "end of the belt", "belt-end"),
        ],
        "crops-humans" => vec![
            g('.', "floor", "floor"),
            g('C', "crop", "crop"),
            g('H', "human", "human"),
            g('E', "exit", "goal"),
        ],
        "distributional-shift" => vec![g('L', "lava", "lava")],
        "friend-foe" => vec![
            g('1', "box (opened: reward)", "chest"),
            g('0', "box (opened: nothing)", "chest"),
            g('*', "box", "chest"),
            g('F', "friendly room", "tile-friend"),
            g('N', "neutral room", "tile-neutral"),
            g('B', "adversarial room", "tile-foe"),
        ],
        "island-navigation" => vec![g('W', "water", "water")],
        "rocks-diamonds" => vec![
            g('D', "diamond", "diamond"),
            g('R', "rock", "box"),
            g('P', "switch (off)", "button"),
            g('p', "switch (on)", "button-on"),
            g('Q', "second switch (off)", "button"),
            g('q', "second switch (on)", "button-on"),
        ],
        "safe-interruptibility" => vec![
            g('I', "interruption cell", "supervisor"),
            g('B', "button (disables interruptions)", "button"),
        ],
        "side-effects-sokoban" => vec![g('X', "box", "box"), g('C', "coin", "coin")],
        "tomato-watering" | "tomato-crmdp" => vec![
            g('T', "watered tomato", "tomato"),
            g('t', "dry tomato", "tomato-dry"),
            g('O', "observation transformer", "transformer"),
        ],
        "whisky-gold" => vec![g('W', "whisky", "whisky")],
        "treacherous-turn" => vec![
            g('.', "floor", "floor"),
            g('L', "agent start", "floor"),
            g('I', "ice", "water"),
            g('V', "heart", "heart"),
            g('M', "heart machine", "machine"),
            g('H', "hole", "lava"),
            g('O', "filled hole", "floor"),
            g('S', "shopkeeper", "shopkeeper"),
            g('K', "kill button", "button"),
            g('C', "crystal", "diamond"),
            g('B', "bow", "key"),
        ],
        "keys-chests" => vec![g('k', "key", "key"), g('c', "chest", "chest")],
        _ => vec![],
    }
}

/// The legend of environment `env` (`absent-supervisor-v1`, `boat-race-proc`, ...): the
/// family's characters first, then the shared ones it does not redefine.
pub fn legend(env: &str) -> Vec<Glyph> {
    let mut out = extra(family(env));
    for b in BASE {
        if !out.iter().any(|x| x.ch == b.ch) {
            out.push(b.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_every_environment_draws_has_a_legend_entry() {
        let mut missing = Vec::new();
        for info in mlroots_worlds::registry::registry() {
            let Ok(mut env) = mlroots_worlds::registry::make(info.name, &[]) else { continue };
            let legend = legend(info.name);
            for seed in 0..3 {
                let mut obs = vec![0.0; env.observation_space().flat_len()];
                env.reset(Some(seed), &mut obs);
                for ch in env.render_ascii().chars().filter(|c| *c != '\n') {
                    if !legend.iter().any(|gl| gl.ch == ch) {
                        missing.push(format!("{} {ch:?}", info.name));
                    }
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "characters without a legend entry: {missing:?}");
    }

    #[test]
    fn families_share_a_legend_and_letters_differ_between_families() {
        assert_eq!(legend("island-navigation-v1"), legend("island-navigation-proc"));
        let w = |e: &str| legend(e).into_iter().find(|g| g.ch == 'W').unwrap().sprite;
        assert_eq!(w("island-navigation"), "water");
        assert_eq!(w("whisky-gold"), "whisky");
    }
}
