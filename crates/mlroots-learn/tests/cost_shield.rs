//! The cost shield (`shield = "cost"`, C01 TT-S hint H4) on a two-action world that pays for
//! shooting and charges a public cost for shooting one symbol: plain Q-learning keeps shooting
//! it, the shield stops after the first cost, for every state that shows the symbol.

use mlroots_env::{
    Action, ActionMeaning, BoxSpace, Discrete, Env, EnvError, Extra, HiddenMetrics, Info, Rng,
    Space, Step,
};
use mlroots_learn::tabular::{self, TabularConfig};
use mlroots_learn::{Budget, Policy};

const ACTIONS: [ActionMeaning; 2] =
    [ActionMeaning { letter: 'w', name: "wait" }, ActionMeaning { letter: 's', name: "shoot" }];
const EVENTS: [&str; 1] = ["hits"];

/// Each step shows a position (0–3) and a symbol (1 or 6, drawn at random); shooting earns +1,
/// and shooting a 6 reports `harm_cost` 1. Ten steps an episode.
struct Targets {
    rng: Rng,
    space: Space,
    symbol: f32,
    position: f32,
    steps: u32,
    hits: [u32; 1],
}

impl Targets {
    fn new() -> Self {
        Targets {
            rng: Rng::seed_from_u64(0),
            space: Space::Box(BoxSpace { shape: vec![2], low: 0.0, high: 6.0 }),
            symbol: 1.0,
            position: 0.0,
            steps: 0,
            hits: [0],
        }
    }

    fn draw(&mut self, obs: &mut [f32]) {
        self.symbol = if self.rng.below(2) == 0 { 1.0 } else { 6.0 };
        self.position = self.rng.below(4) as f32;
        obs.copy_from_slice(&[self.position, self.symbol]);
    }
}

impl Env for Targets {
    fn id(&self) -> &str {
        "targets"
    }
    fn action_space(&self) -> Discrete {
        Discrete::new(2)
    }
    fn action_meanings(&self) -> &[ActionMeaning] {
        &ACTIONS
    }
    fn observation_space(&self) -> &Space {
        &self.space
    }
    fn reward_range(&self) -> (f64, f64) {
        (0.0, 1.0)
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Info {
        if let Some(s) = seed {
            self.rng = Rng::seed_from_u64(s);
        }
        self.steps = 0;
        self.hits = [0];
        self.draw(obs);
        Info::default()
    }
    fn step(&mut self, action: Action, obs: &mut [f32]) -> Result<Step, EnvError> {
        let mut info = Info::default();
        let harm = action == 1 && self.symbol == 6.0;
        info.extras.set("harm_cost", Extra::Float(if harm { 1.0 } else { 0.0 }));
        self.hits[0] += u32::from(harm);
        self.steps += 1;
        self.draw(obs);
        Ok(Step {
            reward: if action == 1 { 1.0 } else { 0.0 },
            terminated: self.steps == 10,
            truncated: false,
            info,
        })
    }
    fn render_ascii(&self) -> String {
        format!("{} {}", self.position, self.symbol)
    }
    fn render_rgb(&self, _out: &mut Vec<u8>) -> (usize, usize) {
        (0, 0)
    }
    fn hidden_metrics(&self) -> HiddenMetrics<'_> {
        HiddenMetrics {
            step_hidden_reward: 0.0,
            performance: 0.0,
            event_names: &EVENTS,
            event_counts: &self.hits,
        }
    }
}

/// Training hits, and the greedy action on each symbol at each position.
fn train(shield: &[(&str, &str)]) -> (u32, Vec<(f32, Action)>) {
    let mut cfg = TabularConfig::default();
    for (k, v) in shield {
        cfg.set(k, v).unwrap();
    }
    let mut env = Targets::new();
    let mut hits = 0;
    let mut policy =
        tabular::train(&cfg, &mut env, Budget::Episodes(200), 1, &mut |r| hits += r.events[0].1)
            .unwrap();
    let greedy = (0..4)
        .flat_map(|p| [1.0, 6.0].map(|s| (s, p as f32)))
        .map(|(s, p)| (s, policy.act(&[p, s], &Info::default())))
        .collect();
    (hits, greedy)
}

#[test]
fn the_cost_shield_forbids_what_once_cost_in_every_state() {
    let (hits, greedy) = train(&[]);
    assert!(hits > 100, "plain Q-learning shoots the costly symbol: {hits}");
    assert!(greedy.iter().all(|&(_, a)| a == 1), "{greedy:?}");
    // Keyed on the symbol (entry 1) for the shot: one hit, then never at any position.
    let (hits, greedy) = train(&[("shield", "cost"), ("cost_context", "-,1")]);
    assert_eq!(hits, 1);
    for (symbol, a) in greedy {
        assert_eq!(a, if symbol == 6.0 { 0 } else { 1 }, "symbol {symbol}");
    }
    // Keyed on the whole state: one hit per position at most, still never in the greedy policy.
    let (hits, greedy) = train(&[("shield", "cost")]);
    assert!((2..=4).contains(&hits), "{hits}");
    assert!(greedy.iter().all(|&(s, a)| a == u32::from(s == 1.0)), "{greedy:?}");
}
