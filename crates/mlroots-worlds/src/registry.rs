//! The registry: every environment by id (`name` or `name-vN`), its options, and [`make`].
//!
//! Options are validated here, before any environment code runs: an unknown id, option or
//! value is an error that names what is accepted.

use mlroots_env::{Action, Env, TimeLimit};
use serde::Serialize;

/// The step limit of the gridworlds, unless an entry sets another with
/// [`EnvInfo::max_steps`].
pub const MAX_STEPS: u32 = 100;

/// One option of an environment.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct OptionSpec {
    /// The key (`level`, `variant`, ...).
    pub key: &'static str,
    /// The accepted values; empty for a free-form option (checked by the environment).
    pub values: &'static [&'static str],
    /// The value used when the option is not given.
    pub default: &'static str,
    /// What it changes.
    pub doc: &'static str,
}

/// A registered environment.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EnvInfo {
    /// The id without version (`absent-supervisor`).
    pub name: &'static str,
    /// The latest version; `name-vN` names it.
    pub version: u32,
    /// One line about what it tests.
    pub summary: &'static str,
    /// Its options.
    pub options: &'static [OptionSpec],
    /// One line, for people, on what the hidden performance measures (shown at the end of
    /// `mlroots play`).
    pub measures: &'static str,
    /// The time limit: episodes are truncated after this many steps.
    pub max_steps: u32,
    /// Whether each reset generates a new level (benchmarked as levels per second).
    pub generates_levels: bool,
    #[serde(skip)]
    make: Maker,
}

/// How an entry makes its environment.
#[derive(Clone, Copy, Debug)]
enum Maker {
    /// Every option is a choice among listed values, so making cannot fail.
    Infallible(fn(&Options) -> Box<dyn Env>),
    /// Some option is free-form (a maze as ASCII, a size): making checks it and says why not.
    Checked(fn(&Options) -> Result<Box<dyn Env>, OptionError>),
}

/// A free-form option value the environment cannot use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    /// The option's key.
    pub key: &'static str,
    /// What is wrong and what is accepted.
    pub reason: String,
}

impl EnvInfo {
    /// A registry entry; `make` receives validated options.
    pub const fn new(
        name: &'static str,
        version: u32,
        summary: &'static str,
        options: &'static [OptionSpec],
        make: fn(&Options) -> Box<dyn Env>,
    ) -> Self {
        Self::with_maker(name, version, summary, options, Maker::Infallible(make))
    }

    /// A registry entry whose `make` checks free-form options (an [`OptionSpec`] with no
    /// listed `values` accepts any text, and `make` says what is wrong with it).
    pub const fn checked(
        name: &'static str,
        version: u32,
        summary: &'static str,
        options: &'static [OptionSpec],
        make: fn(&Options) -> Result<Box<dyn Env>, OptionError>,
    ) -> Self {
        Self::with_maker(name, version, summary, options, Maker::Checked(make))
    }

    const fn with_maker(
        name: &'static str,
        version: u32,
        summary: &'static str,
        options: &'static [OptionSpec],
        make: Maker,
    ) -> Self {
        EnvInfo {
            name,
            version,
            summary,
            options,
            measures: "",
            max_steps: MAX_STEPS,
            generates_levels: false,
            make,
        }
    }

    /// The same entry with another time limit.
    pub const fn max_steps(mut self, max_steps: u32) -> Self {
        self.max_steps = max_steps;
        self
    }

    /// The same entry, marked as generating a new level at each reset.
    pub const fn generates_levels(mut self) -> Self {
        self.generates_levels = true;
        self
    }

    /// The same entry with the line on what the hidden performance measures.
    pub const fn measures(mut self, measures: &'static str) -> Self {
        self.measures = measures;
        self
    }
}

/// Validated options: every key is known and every value accepted.
#[derive(Clone, Debug)]
pub struct Options {
    values: Vec<(&'static str, String)>,
}

impl Options {
    /// The value of `key` (its default when not given).
    ///
    /// # Panics
    /// When `key` is not an option of the environment: a bug in the environment's code.
    pub fn get(&self, key: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("option {key:?} is not declared by this environment"))
    }
}

/// Why an environment could not be made, or an action string not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MakeError {
    /// No environment has this id.
    #[error("unknown environment {id:?}; known: {known}")]
    UnknownEnv {
        /// The id given.
        id: String,
        /// The known ids.
        known: String,
    },
    /// The environment exists but not in this version.
    #[error("{name} has no version v{version}; the latest is v{latest} (or leave the suffix out)")]
    UnknownVersion {
        /// The environment.
        name: String,
        /// The version asked for.
        version: String,
        /// The latest version.
        latest: u32,
    },
    /// The environment has no such option.
    #[error("{env} has no option {key:?}; its options: {known}")]
    UnknownOption {
        /// The environment.
        env: String,
        /// The key given.
        key: String,
        /// Its option keys.
        known: String,
    },
    /// The option does not take this value.
    #[error("option {key}={value:?} is not accepted by {env}; accepted: {accepted}")]
    BadValue {
        /// The environment.
        env: String,
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// The accepted values.
        accepted: String,
    },
    /// A letter in an action string is not an action of the environment.
    #[error("{env} has no action {letter:?} (position {position}); its actions: {accepted}")]
    BadActionLetter {
        /// The environment.
        env: String,
        /// The letter.
        letter: char,
        /// Its position in the string (0-based).
        position: usize,
        /// The accepted letters and their meanings.
        accepted: String,
    },
}

/// Every registered environment, in catalogue order.
pub fn registry() -> &'static [EnvInfo] {
    REGISTRY
}

static REGISTRY: &[EnvInfo] = &[
    crate::safe_interruptibility::INFO,
    crate::side_effects_sokoban::INFO,
    crate::conveyor_belt::INFO,
    crate::absent_supervisor::INFO,
    crate::boat_race::INFO,
    crate::tomato_watering::INFO,
    crate::tomato_watering::INFO_CRMDP,
    crate::rocks_diamonds::INFO,
    crate::whisky_gold::INFO,
    crate::distributional_shift::INFO,
    crate::island_navigation::INFO,
    crate::friend_foe::INFO,
    crate::safe_interruptibility_proc::INFO,
    crate::absent_supervisor_proc::INFO,
    crate::boat_race_proc::INFO,
    crate::whisky_gold_proc::INFO,
    crate::distributional_shift_proc::INFO,
    crate::island_navigation_proc::INFO,
    crate::crops_humans::INFO,
    crate::side_effects_sokoban_proc::INFO,
    crate::conveyor_belt_proc::INFO,
    crate::tomato_watering_proc::INFO,
    crate::rocks_diamonds_proc::INFO,
    crate::friend_foe_proc::INFO,
    crate::keys_chests::INFO,
    crate::treacherous_turn::INFO,
    crate::treacherous_turn_proc::INFO,
];

/// The registry entry for `id` (`name` or `name-vN`).
pub fn find(id: &str) -> Result<&'static EnvInfo, MakeError> {
    let (name, version) = match id.rsplit_once("-v") {
        Some((n, v)) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => (n, Some(v)),
        _ => (id, None),
    };
    let info = REGISTRY.iter().find(|e| e.name == name).ok_or_else(|| MakeError::UnknownEnv {
        id: id.to_string(),
        known: REGISTRY.iter().map(|e| e.name).collect::<Vec<_>>().join(", "),
    })?;
    match version {
        Some(v) if v.parse::<u32>().ok() != Some(info.version) => Err(MakeError::UnknownVersion {
            name: name.to_string(),
            version: v.to_string(),
            latest: info.version,
        }),
        _ => Ok(info),
    }
}

/// Makes environment `id` with `options` (`KEY`, `VALUE` pairs; absent keys take their
/// default), wrapped in the time limit.
pub fn make(id: &str, options: &[(&str, &str)]) -> Result<Box<dyn Env>, MakeError> {
    let info = find(id)?;
    let mut values: Vec<(&'static str, String)> =
        info.options.iter().map(|o| (o.key, o.default.to_string())).collect();
    let bad_value = |key: &str, value: &str, accepted: String| MakeError::BadValue {
        env: info.name.to_string(),
        key: key.to_string(),
        value: value.to_string(),
        accepted,
    };
    for &(key, value) in options {
        let spec =
            info.options.iter().find(|o| o.key == key).ok_or_else(|| MakeError::UnknownOption {
                env: info.name.to_string(),
                key: key.to_string(),
                known: if info.options.is_empty() {
                    "none".to_string()
                } else {
                    info.options.iter().map(|o| o.key).collect::<Vec<_>>().join(", ")
                },
            })?;
        // An option with no listed values is free-form: the environment's `make` checks it.
        if !spec.values.is_empty() && !spec.values.contains(&value) {
            return Err(bad_value(key, value, spec.values.join(", ")));
        }
        values.iter_mut().find(|(k, _)| *k == key).unwrap().1 = value.to_string();
    }
    let opts = Options { values };
    let env = match info.make {
        Maker::Infallible(make) => make(&opts),
        Maker::Checked(make) => {
            make(&opts).map_err(|e| bad_value(e.key, opts.get(e.key), e.reason))?
        }
    };
    Ok(Box::new(TimeLimit::new(env, info.max_steps)))
}

/// Reads an action string with the letters of `env`'s actions: `"dllr"`, with optional
/// repetition of whitespace-separated segments (`"rrrruu u*94"`, `"rl*50"`).
pub fn parse_actions(env: &dyn Env, s: &str) -> Result<Vec<Action>, MakeError> {
    let meanings = env.action_meanings();
    let bad = |letter: char, position: usize| MakeError::BadActionLetter {
        env: env.id().to_string(),
        letter,
        position,
        accepted: meanings
            .iter()
            .map(|m| format!("{} ({})", m.letter, m.name))
            .chain(std::iter::once("segments may repeat as LETTERS*N".to_string()))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut actions = Vec::new();
    let mut offset = 0;
    for segment in s.split_inclusive(char::is_whitespace) {
        let start = offset;
        offset += segment.len();
        let segment = segment.trim_end();
        if segment.is_empty() {
            continue;
        }
        let (letters, times) = match segment.split_once('*') {
            Some((l, n)) => match n.parse::<usize>() {
                Ok(n) if n <= 1_000_000 => (l, n),
                _ => return Err(bad('*', start + l.len())),
            },
            None => (segment, 1),
        };
        let mut one = Vec::with_capacity(letters.len());
        for (i, letter) in letters.chars().enumerate() {
            let a =
                meanings.iter().position(|m| m.letter == letter).ok_or(bad(letter, start + i))?;
            one.push(a as Action);
        }
        for _ in 0..times {
            actions.extend_from_slice(&one);
        }
    }
    Ok(actions)
}
