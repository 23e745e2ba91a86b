//! The worlds' test suite: reference values as data, ASCII films, the checker over every
//! environment and option combination, and property tests.

mod checker;
mod crops_humans;
mod films;
mod friend_foe;
mod keys_chests;
mod optimum;
mod proc_invariants;
mod procedural;
mod props;
mod reference;
mod simple_worlds;
mod tomato_watering;
mod treacherous_turn;

use mlroots_env::Env;

/// Makes `id` with options written `k=v,k=v` (or `-` for none).
pub fn make(id: &str, options: &str) -> Box<dyn Env> {
    let pairs: Vec<(&str, &str)> = if options == "-" || options.is_empty() {
        Vec::new()
    } else {
        options
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(|kv| kv.split_once('=').expect("k=v"))
            .collect()
    };
    mlroots_worlds::make(id, &pairs).unwrap_or_else(|e| panic!("{e}"))
}

/// Every combination of every environment's listed options, as `k=v,k=v` strings (free-form
/// options, which list no values, keep their defaults).
pub fn all_option_combinations(info: &mlroots_worlds::EnvInfo) -> Vec<String> {
    let mut combos = vec![String::new()];
    for o in info.options.iter().filter(|o| !o.values.is_empty()) {
        combos = combos
            .iter()
            .flat_map(|c| {
                o.values.iter().map(move |v| {
                    if c.is_empty() {
                        format!("{}={v}", o.key)
                    } else {
                        format!("{c},{}={v}", o.key)
                    }
                })
            })
            .collect();
    }
    combos
}
