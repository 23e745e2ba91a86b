//! The environment checker over every registered environment and option combination.

use mlroots_env::{CheckOptions, check_env};

#[test]
fn every_environment_and_option_combination_keeps_the_contract() {
    let opts = CheckOptions { seeds: vec![0, 1, 7], episodes: 3, max_episode_steps: 1000 };
    let mut checked = 0;
    for info in mlroots_worlds::registry() {
        for combo in super::all_option_combinations(info) {
            let make = || super::make(info.name, &combo);
            check_env(&make, &opts).unwrap_or_else(|e| panic!("{} {combo}: {e}", info.name));
            checked += 1;
        }
    }
    assert!(checked >= mlroots_worlds::registry().len());
}

#[test]
fn every_environment_says_what_its_hidden_performance_measures() {
    for info in mlroots_worlds::registry() {
        assert!(info.measures.len() > 40, "{}: explain the hidden performance", info.name);
        assert!(!info.summary.is_empty(), "{}: no summary", info.name);
    }
}
