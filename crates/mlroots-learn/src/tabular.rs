//! Tabular learners (Q-learning, SARSA, expected SARSA, Dyna-Q) over any environment, the
//! reference learners of the gridworld failures.
//!
//! A state is a row of a Q-table: the index itself where the observation is one `Discrete`
//! index (the treacherous turn's `obs=index`), else a row interned the first time an
//! observation is met (see `table`). Training steps allocate nothing once the states are met.
//!
//! ```
//! use mlroots_learn::{Budget, evaluate, tabular};
//! let mut env = mlroots_worlds::make("absent-supervisor", &[("supervisor", "present")]).unwrap();
//! let cfg = tabular::TabularConfig::preset("reward-maximiser").unwrap();
//! let mut policy = tabular::train(&cfg, &mut *env, Budget::Episodes(300), 0, &mut |_| {}).unwrap();
//! let records = evaluate(&mut *env, &mut policy, 1, 0).unwrap();
//! assert_eq!(records[0].episode_return, 41.0); // the long way round, under supervision
//! ```
//!
//! Dyna-Q with `local_model` (the treacherous turn only, see [`TabularConfig::local_model`])
//! plans over more than it has seen: each transition is a rule for its context (what the
//! action touches), applied in every state the rules reach; training allocates while it
//! plans the one permitted kill, and the finished table holds every state planning reached.
//!
//! Stochastic transitions and Dyna-Q: the model is deterministic, each observed `(s, a)`
//! keeps its most recent outcome `(r, s′)`. Where the world is stochastic (an interruption
//! lottery, drunkenness, drying tomatoes, a kill with probability ½) planning replays
//! whichever outcome came last, so the planned values follow the latest sample rather than
//! the expectation; the real-step updates still average over outcomes with rate α.

mod config;
mod cost;
mod shield;
mod table;

use std::collections::BTreeMap;

use mlroots_env::{Action, Env, EnvError, Extra, Info, Rng, Space};

pub use config::{
    Algorithm, ConfigError, DynaModel, Exploration, Preset, Schedule, Shield, TabularConfig,
    UpdateOn, presets,
};
pub use table::TabularPolicy;
use table::{RowError, Table};

use crate::{Budget, EpisodeRecord};

/// Why training stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The environment refused a step (a bug: the learner only takes actions of its space).
    #[error("the environment refused a step: {0}")]
    Env(#[from] EnvError),
    /// More distinct observations than `max_states`.
    #[error(
        "the table is full: {max} distinct observations met in `{env}`; a tabular learner needs \
         a small discrete state (choose an observation without noise or clock, or raise \
         max_states with --set max_states=N)"
    )]
    TooManyStates {
        /// The environment.
        env: String,
        /// The limit.
        max: u32,
    },
    /// A `Discrete` observation outside its space.
    #[error("`{env}` returned the observation {value}, outside its Discrete({n}) space")]
    BadObservation {
        /// The environment.
        env: String,
        /// The value.
        value: f32,
        /// The size of the space.
        n: u32,
    },
    /// The table's size does not fit.
    #[error(
        "`{env}` has {actions} actions; with max_states = {max_states} the table would exceed \
         2^32 entries (tabular learners handle up to 64 actions; lower max_states)"
    )]
    TableTooLarge {
        /// The environment.
        env: String,
        /// Its number of actions.
        actions: u32,
        /// The configured state limit.
        max_states: u32,
    },
    /// The shield is made for one environment.
    #[error(
        "the treacherous-turn-one-strike shield reads the classic state index: use it with \
         `treacherous-turn` and obs=index (got `{env}` with observation {space}), or set \
         shield=none"
    )]
    ShieldUnsupported {
        /// The environment.
        env: String,
        /// Its observation space, as JSON.
        space: String,
    },
}

/// Trains a fresh learner with configuration `cfg` on `env` for `budget`, from `seed` (the
/// first episode is reset with `Some(seed)`, the next ones continue the environment's stream;
/// the learner's own draws come from a stream derived from `seed`). `on_episode` is called after
/// every finished episode with its record (hidden values included, for plots; they never reach
/// the learner).
pub fn train(
    cfg: &TabularConfig,
    env: &mut dyn Env,
    budget: Budget,
    seed: u64,
    on_episode: &mut dyn FnMut(&EpisodeRecord),
) -> Result<TabularPolicy, TrainError> {
    let mut learner = TabularLearner::new(cfg, &*env, seed)?;
    learner.train(env, budget, on_episode)?;
    Ok(learner.into_policy())
}

/// The learner's deterministic model for Dyna-Q: the last outcome of each `(s, a)` seen.
#[derive(Clone, Debug, Default)]
struct Model {
    /// For each entry `s·actions + a` of the table: 1 + its index in `seen`, or 0.
    slot: Vec<u32>,
    /// The observed transitions, in the order first met (planning samples them uniformly).
    seen: Vec<Transition>,
}

#[derive(Clone, Copy, Debug)]
struct Transition {
    entry: u32,
    reward: f32,
    /// The next row, or [`TERMINAL`].
    next: u32,
    /// The Boyer–Moore vote of the outcome ([`DynaModel::Majority`]).
    votes: u32,
}

const TERMINAL: u32 = u32::MAX;

impl Model {
    fn record(&mut self, entry: u32, reward: f32, next: u32, entries: usize, keep: DynaModel) {
        if self.slot.len() < entries {
            self.slot.resize(entries, 0);
        }
        let new = Transition { entry, reward, next, votes: 1 };
        match self.slot[entry as usize] {
            0 => {
                self.seen.push(new);
                self.slot[entry as usize] = self.seen.len() as u32;
            }
            i => {
                let t = &mut self.seen[i as usize - 1];
                let same = t.next == next && t.reward.to_bits() == reward.to_bits();
                match keep {
                    DynaModel::Last => *t = new,
                    DynaModel::Majority if same => t.votes = t.votes.saturating_add(1),
                    DynaModel::Majority if t.votes <= 1 => *t = new,
                    DynaModel::Majority => t.votes -= 1,
                }
            }
        }
    }
}

/// A tabular learner in training; [`train`] wraps it. Keeping one lets a caller train in
/// stages (for checkpoints) or measure steady-state speed.
#[derive(Clone, Debug)]
pub struct TabularLearner {
    cfg: TabularConfig,
    table: Table,
    env_id: String,
    obs_space: Space,
    rng: Rng,
    seed: u64,
    spare_gaussian: Option<f64>,
    model: Option<Model>,
    shield: Option<shield::OneStrike>,
    /// The cost shield ([`Shield::Cost`]).
    cost: Option<cost::CostShield>,
    steps: u64,
    episodes: u64,
    started: bool,
    obs: Vec<f32>,
    /// The number of actions (the table's, kept when the table is handed over).
    actions: u32,
    /// `local_model`: the kill experiment is over; the experiment's value table (warm start).
    experiment_done: bool,
    plan_table: Option<(Table, Option<(usize, u32)>)>,
    all_actions: u64,
    // Per-episode exploration parameters.
    p_random: f64,
    noise_scale: f64,
    alpha: f32,
    gamma: f32,
}

/// A salt so that the learner's stream differs from an environment seeded with the same seed.
const LEARNER_SALT: u64 = 0x6d6c_726f_6f74_7321;

impl TabularLearner {
    /// A learner for `env` (its spaces are read, it is not stepped).
    pub fn new(cfg: &TabularConfig, env: &dyn Env, seed: u64) -> Result<Self, TrainError> {
        cfg.validate()?;
        if cfg.local_model
            && (cfg.algo != Algorithm::DynaQ || cfg.shield != Shield::TreacherousTurnOneStrike)
        {
            return Err(TrainError::Config(ConfigError::OutOfRange {
                key: "local_model",
                value: "true".to_string(),
                expected: "algo dyna-q with shield=treacherous-turn-one-strike (the model reads \
                           the board the shield decodes); or set local_model=false",
            }));
        }
        let actions = env.action_space().n;
        let space = env.observation_space().clone();
        if actions == 0
            || actions > 64
            || u64::from(cfg.max_states) * u64::from(actions) > u64::from(u32::MAX - 1)
        {
            return Err(TrainError::TableTooLarge {
                env: env.id().to_string(),
                actions,
                max_states: cfg.max_states,
            });
        }
        let mut cost = None;
        let shield = match cfg.shield {
            Shield::None => None,
            Shield::Cost => {
                let context = config::parse_context(&cfg.cost_context).unwrap_or_default();
                let c = cost::CostShield::new(&cfg.cost_signal, context);
                if c.max_index().is_some_and(|i| i >= space.flat_len()) {
                    return Err(TrainError::Config(ConfigError::OutOfRange {
                        key: "cost_context",
                        value: cfg.cost_context.clone(),
                        expected: "indices of the observation (below its length)",
                    }));
                }
                cost = Some(c);
                None
            }
            Shield::TreacherousTurnOneStrike => {
                let classic = Space::Discrete(mlroots_env::Discrete::new(
                    mlroots_worlds::treacherous_turn::STATE_COUNT,
                ));
                if env.id() != "treacherous-turn-v1" || space != classic || actions != 8 {
                    return Err(TrainError::ShieldUnsupported {
                        env: env.id().to_string(),
                        space: serde_json::to_string(&space).unwrap_or_default(),
                    });
                }
                Some(shield::OneStrike::new(cfg.shield_strikes, cfg.shield_warmup))
            }
        };
        Ok(TabularLearner {
            table: Table::new(&space, actions as usize, cfg.q_init as f32),
            env_id: env.id().to_string(),
            obs: vec![0.0; space.flat_len()],
            obs_space: space,
            rng: Rng::seed_from_u64(seed ^ LEARNER_SALT),
            seed,
            spare_gaussian: None,
            model: (cfg.algo == Algorithm::DynaQ).then(Model::default),
            shield,
            cost,
            steps: 0,
            episodes: 0,
            started: false,
            experiment_done: false,
            actions,
            plan_table: None,
            all_actions: if actions == 64 { u64::MAX } else { (1u64 << actions) - 1 },
            p_random: 0.0,
            noise_scale: 0.0,
            alpha: cfg.alpha as f32,
            gamma: cfg.gamma as f32,
            cfg: cfg.clone(),
        })
    }

    /// Trains for `budget` more (counted from this call), calling `on_episode` after every
    /// finished episode. A step budget cuts the last episode short (it is not reported).
    pub fn train(
        &mut self,
        env: &mut dyn Env,
        budget: Budget,
        on_episode: &mut dyn FnMut(&EpisodeRecord),
    ) -> Result<(), TrainError> {
        let (mut steps, mut episodes) = (0u64, 0u64);
        while !budget.exhausted(steps, episodes) {
            let seed = (!self.started).then_some(self.seed);
            self.started = true;
            let mut obs = std::mem::take(&mut self.obs);
            let result = self.episode(env, seed, &mut obs, budget, &mut steps, &mut episodes);
            self.obs = obs;
            if let Some(record) = result? {
                on_episode(&record);
            }
        }
        Ok(())
    }

    /// The greedy policy of the table as it stands (finished as `final_sweeps` says; the
    /// learner's own table is unchanged, so training can go on).
    pub fn policy(&self) -> TabularPolicy {
        let mut table = self.table.clone();
        self.finish(&mut table);
        TabularPolicy { table, steps: self.steps, episodes: self.episodes }
    }

    /// The greedy policy, without copying the table.
    pub fn into_policy(mut self) -> TabularPolicy {
        let mut table = std::mem::replace(&mut self.table, Table::empty());
        self.finish(&mut table);
        TabularPolicy { table, steps: self.steps, episodes: self.episodes }
    }

    /// Dyna-Q's finishing (see [`TabularConfig::final_sweeps`]): value iteration on the model,
    /// untried actions just below the worst tried one.
    fn finish(&self, table: &mut Table) {
        self.finish_model(table);
        // The cost shield's rule, in every row (also those met before a context was forbidden).
        if let Some(cost) = &self.cost {
            for s in 0..table.len() as u32 {
                let mask = row_obs(table, s, |obs| cost.mask(obs, s, self.actions));
                let row = s as usize * table.actions;
                for a in 0..table.actions {
                    if mask & (1 << a) != 0 {
                        table.q[row + a] = self.cfg.shield_q as f32;
                    }
                }
            }
        }
    }

    /// Dyna-Q's part of [`Self::finish`].
    fn finish_model(&self, table: &mut Table) {
        if self.model.as_ref().is_none_or(|m| m.seen.is_empty()) || self.cfg.final_sweeps == 0 {
            return;
        }
        let transitions = self.planning_transitions(table);
        self.solve(table, &transitions, None, self.cfg.final_sweeps, 1e-6);
    }

    /// The transitions value iteration sweeps over: the model's, with the shield their bow
    /// twins, and with `local_model` every generalisation the rules guarantee (see
    /// [`TabularConfig::local_model`]). Rows they start from are marked met in `table`.
    fn planning_transitions(&self, table: &mut Table) -> Vec<Transition> {
        let Some(model) = &self.model else { return Vec::new() };
        let mut transitions = model.seen.clone();
        let Some(shield) = &self.shield else { return transitions };
        let actions = table.actions as u32;
        let mut known = vec![false; table.len() * table.actions];
        for t in &transitions {
            known[t.entry as usize] = true;
        }
        let mut extra = Vec::new();
        let mut add = |entry: u32, reward: f32, next: u32, extra: &mut Vec<Transition>| {
            if !known[entry as usize] {
                known[entry as usize] = true;
                extra.push(Transition { entry, reward, next, votes: 1 });
            }
        };
        if !self.cfg.local_model {
            for t in &model.seen {
                let (s, a) = (t.entry / actions, t.entry % actions);
                if let Some((x, y)) = shield.bow_twin(s, a, t.next) {
                    add(x * actions + a, t.reward, y, &mut extra);
                }
            }
        } else {
            // The local model: the rules, applied from every state the transitions reach.
            let rules = self.rules();
            let mut visited = vec![false; table.len()];
            let mut queue: Vec<u32> = Vec::new();
            for t in &model.seen {
                for x in [t.entry / actions, t.next] {
                    if x != TERMINAL && !visited[x as usize] {
                        visited[x as usize] = true;
                        queue.push(x);
                    }
                }
            }
            while let Some(x) = queue.pop() {
                for a in 0..actions {
                    let entry = x * actions + a;
                    let next = match model.slot.get(entry as usize) {
                        Some(&i) if i > 0 => model.seen[i as usize - 1].next,
                        _ => {
                            let (key, stop) = shield::context(x, a);
                            match rules
                                .get(&key)
                                .and_then(|&(r, e)| Some((r, e.apply(x, a, stop)?)))
                            {
                                Some((r, next)) => {
                                    add(entry, r, next, &mut extra);
                                    next
                                }
                                None => continue,
                            }
                        }
                    };
                    if next != TERMINAL && !visited[next as usize] {
                        visited[next as usize] = true;
                        queue.push(next);
                    }
                }
            }
        }
        for t in &extra {
            table.mark_met(t.entry / actions);
        }
        transitions.extend(extra);
        transitions
    }

    /// The local model's rules: one per context, learned from the transitions seen (the first
    /// one met wins).
    fn rules(&self) -> BTreeMap<u64, (f32, shield::Effect)> {
        let mut rules = BTreeMap::new();
        let Some(model) = &self.model else { return rules };
        let actions = self.actions;
        for t in &model.seen {
            let (s, a) = (t.entry / actions, t.entry % actions);
            let (key, stop) = shield::context(s, a);
            if let Some(e) = shield::Effect::of(s, a, stop, t.reward, t.next) {
                rules.entry(key).or_insert((t.reward, e));
            }
        }
        rules
    }

    /// Value iteration over `transitions` into `table` (full backups, α = 1, at most
    /// `max_sweeps` sweeps, until no value moves by more than `tolerance`). An action never
    /// tried in a state is kept just below the worst tried one, and a state never acted from
    /// is worth the worst return the rewards seen allow; with `optimism` (the kill experiment)
    /// an untried action where the shopkeeper is dead, or the kill the shield permits, is
    /// worth `optimism` instead.
    fn solve(
        &self,
        table: &mut Table,
        transitions: &[Transition],
        optimism: Option<f32>,
        max_sweeps: u32,
        tolerance: f32,
    ) {
        let actions = table.actions;
        let rows = table.len();
        let mut tried = vec![0u64; rows];
        for t in transitions {
            tried[t.entry as usize / actions] |= 1 << (t.entry as usize % actions);
        }
        // The untried actions valued `optimism` in row `s`.
        let hopeful = |s: usize| -> u64 {
            match (optimism, &self.shield) {
                (Some(_), Some(shield)) if s as u32 >= shield::BOW_OFFSET => {
                    let (alive, harmful) = shield.keeper(s as u32);
                    if alive { harmful & !shield.forbidden(s as u32).0 } else { self.all_actions }
                }
                _ => 0,
            }
        };
        let lower = |table: &mut Table| {
            for (s, &mask) in tried.iter().enumerate().filter(|(_, m)| **m != 0) {
                let hope = if mask == self.all_actions { 0 } else { hopeful(s) };
                let row = &mut table.q[s * actions..(s + 1) * actions];
                let worst = (0..actions)
                    .filter(|a| mask & (1 << a) != 0)
                    .map(|a| row[a])
                    .fold(f32::INFINITY, f32::min);
                for (a, v) in row.iter_mut().enumerate() {
                    if mask & (1 << a) != 0 {
                        continue;
                    }
                    match optimism {
                        Some(o) if hope & (1 << a) != 0 => *v = o,
                        _ => *v = v.min(worst - 1.0),
                    }
                }
            }
        };
        // A state met but never acted from (where an episode was cut) is worth no more than
        // the worst return the rewards seen allow.
        let worst_reward = transitions.iter().map(|t| t.reward).fold(0.0f32, f32::min);
        let floor =
            if self.gamma < 1.0 { worst_reward / (1.0 - self.gamma) } else { worst_reward * 1e4 };
        for (s, _) in tried.iter().enumerate().filter(|(_, m)| **m == 0) {
            let row = &mut table.q[s * actions..(s + 1) * actions];
            match optimism {
                Some(o) if hopeful(s) == self.all_actions => row.fill(o),
                _ => row.fill(floor),
            }
        }
        lower(table);
        for _ in 0..max_sweeps {
            let mut moved = 0.0f32;
            for t in transitions {
                let target = if t.next == TERMINAL {
                    t.reward
                } else {
                    let next = table.values(t.next);
                    t.reward + self.gamma * next.iter().copied().fold(f32::NEG_INFINITY, f32::max)
                };
                let q = &mut table.q[t.entry as usize];
                moved = moved.max((target - *q).abs());
                *q = target;
            }
            // The worst tried value of a row may have moved: keep untried ones below it.
            lower(table);
            if moved <= tolerance {
                break;
            }
        }
    }

    /// Whether the kill experiment of `local_model` decides the action in `s`.
    fn experimenting(&self, s: u32) -> bool {
        self.cfg.local_model
            && !self.experiment_done
            && s >= shield::BOW_OFFSET
            && self.episodes >= self.cfg.shield_warmup
            && self.shield.is_some()
    }

    /// The kill experiment's action in `s`: greedy on value iteration over the generalised
    /// model with optimism (warm-started from the last step's values).
    fn plan_action(&mut self, s: u32) -> Action {
        // The values change only with the model's rules (or the strike spent, which comes
        // with the kill's new rule): solve again only then.
        let version = (self.rules().len(), self.shield.as_ref().map_or(0, |sh| sh.strikes_left));
        let (mut table, solved) = match self.plan_table.take() {
            Some(t) => t,
            None => (self.table.clone(), None),
        };
        if solved != Some(version) {
            let transitions = self.planning_transitions(&mut table);
            let optimism = self.cfg.plan_optimism as f32;
            self.solve(&mut table, &transitions, Some(optimism), 300, 1e-4);
        }
        let allowed = self.all_actions & !self.peek_forbidden(s);
        let values = table.values(s);
        let mut best = None;
        for (a, &v) in values.iter().enumerate().filter(|(a, _)| allowed & (1 << a) != 0) {
            if best.is_none_or(|(_, b)| v > b) {
                best = Some((a, v));
            }
        }
        self.plan_table = Some((table, Some(version)));
        best.map_or(0, |(a, _)| a as Action)
    }

    /// Environment steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Episodes finished so far.
    pub fn episodes(&self) -> u64 {
        self.episodes
    }

    /// One episode (or its part within the budget); the record if it finished.
    fn episode(
        &mut self,
        env: &mut dyn Env,
        seed: Option<u64>,
        obs: &mut [f32],
        budget: Budget,
        steps: &mut u64,
        episodes: &mut u64,
    ) -> Result<Option<EpisodeRecord>, TrainError> {
        let info = env.reset(seed, obs);
        self.begin_episode();
        let mut s = self.row(obs)?;
        let mut a = self.behave(s, &info);
        // SARSA on executed actions: the last transition waits for the next executed action.
        let mut pending: Option<(u32, Action, f32)> = None;
        let (mut ep_steps, mut ret) = (0u32, 0.0f64);
        loop {
            if budget.exhausted(*steps, *episodes) {
                return Ok(None);
            }
            let cost_key = self.cost.as_ref().map(|c| c.key(obs, s, a));
            let step = env.step(a, obs)?;
            if let Some(shield) = &mut self.shield {
                shield.step = ep_steps + 1;
            }
            if let (Some(c), Some(key)) = (&mut self.cost, cost_key)
                && c.cost(&step.info) > 0.0
            {
                c.forbid(key);
            }
            *steps += 1;
            self.steps += 1;
            ep_steps += 1;
            ret += step.reward;
            let r = step.reward as f32;
            let s2 = self.row(obs)?;
            if let Some(shield) = &mut self.shield {
                shield.observe(s, s2);
            }
            let a_upd = match self.cfg.update_on {
                UpdateOn::Chosen => a,
                UpdateOn::Executed => step.info.actual_actions.filter(|&x| x < 64).unwrap_or(a),
            };
            let (done, terminated) = (step.done(), step.terminated);
            let next = match self.cfg.algo {
                Algorithm::QLearning | Algorithm::DynaQ => {
                    let target = if terminated { r } else { r + self.gamma * self.max_q(s2) };
                    self.update(s, a_upd, target);
                    if self.model.is_some() {
                        let next = match (&self.shield, terminated) {
                            (_, true) => TERMINAL,
                            (Some(_), false) => shield::OneStrike::model_next(s, s2),
                            (None, false) => s2,
                        };
                        self.plan(s, a_upd, r, next);
                    }
                    (!done).then(|| self.behave(s2, &step.info))
                }
                Algorithm::ExpectedSarsa => {
                    let target = if terminated {
                        r
                    } else {
                        let p = self.p_random_with(&step.info);
                        r + self.gamma * self.expected_q(s2, p)
                    };
                    self.update(s, a_upd, target);
                    (!done).then(|| self.behave(s2, &step.info))
                }
                Algorithm::Sarsa => {
                    let a2 = (!terminated).then(|| self.behave(s2, &step.info));
                    let bootstrap = |l: &Self| a2.map_or(0.0, |a2| l.gamma * l.q(s2, a2));
                    match self.cfg.update_on {
                        UpdateOn::Chosen => self.update(s, a, r + bootstrap(self)),
                        UpdateOn::Executed => {
                            if let Some((ps, pa, pr)) = pending.take() {
                                let target = pr + self.gamma * self.q(s, a_upd);
                                self.update(ps, pa, target);
                            }
                            if done {
                                self.update(s, a_upd, r + bootstrap(self));
                            } else {
                                pending = Some((s, a_upd, r));
                            }
                        }
                    }
                    a2.filter(|_| !done)
                }
            };
            match next {
                Some(a2) => (s, a) = (s2, a2),
                None => {
                    if self.shield.as_ref().is_some_and(|sh| sh.strikes_left == 0) {
                        self.experiment_done = true;
                        self.plan_table = None;
                    }
                    *episodes += 1;
                    let record =
                        EpisodeRecord::from_env(&*env, self.episodes, ep_steps, self.steps, ret);
                    self.episodes += 1;
                    return Ok(Some(record));
                }
            }
        }
    }

    /// The row of `obs`, met now.
    #[inline]
    fn row(&mut self, obs: &[f32]) -> Result<u32, TrainError> {
        self.table.row_or_insert(obs, self.cfg.max_states).map_err(|e| match e {
            RowError::Full => {
                TrainError::TooManyStates { env: self.env_id.clone(), max: self.cfg.max_states }
            }
            RowError::BadIndex => TrainError::BadObservation {
                env: self.env_id.clone(),
                value: obs[0],
                n: match self.obs_space {
                    Space::Discrete(d) => d.n,
                    Space::Box(_) => 0,
                },
            },
        })
    }

    fn begin_episode(&mut self) {
        let i = self.episodes as f64;
        if let Some(shield) = &mut self.shield {
            shield.episode = self.episodes;
            shield.step = 0;
        }
        match self.cfg.exploration {
            Exploration::EpsilonGreedy => {
                self.p_random = self.cfg.epsilon_at(self.episodes);
                self.noise_scale = 0.0;
            }
            Exploration::Trazzi => {
                self.p_random = 0.1 / (i + 2.0).ln();
                self.noise_scale = 1.0 / (i + 1.0);
            }
        }
    }

    /// The probability of a random action after a step with `info`.
    #[inline]
    fn p_random_with(&self, info: &Info) -> f64 {
        match info.extras.get("exploration") {
            Some(Extra::Float(x)) if self.cfg.info_exploration => self.p_random.max(x),
            _ => self.p_random,
        }
    }

    #[inline]
    fn q(&self, s: u32, a: Action) -> f32 {
        self.table.q[s as usize * self.table.actions + a as usize]
    }

    #[inline]
    fn max_q(&self, s: u32) -> f32 {
        let values = self.table.values(s);
        match self.peek_forbidden(s) {
            0 => values.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            forbidden => {
                let mut max = f32::NEG_INFINITY;
                for (a, &v) in values.iter().enumerate() {
                    if forbidden & (1 << a) == 0 {
                        max = max.max(v);
                    }
                }
                max
            }
        }
    }

    /// E[Q(s, ·)] under the behaviour policy with random-action probability `p` (the greedy
    /// part is the maximum whatever the ties; Trazzi's noise is taken as greedy).
    fn expected_q(&self, s: u32, p: f64) -> f32 {
        let allowed = self.all_actions & !self.peek_forbidden(s);
        let values = self.table.values(s);
        let (mut sum, mut max, mut n) = (0.0f32, f32::NEG_INFINITY, 0u32);
        for (a, &v) in values.iter().enumerate() {
            if allowed & (1 << a) != 0 {
                sum += v;
                max = max.max(v);
                n += 1;
            }
        }
        let p = p as f32;
        p * sum / n as f32 + (1.0 - p) * max
    }

    #[inline]
    fn update(&mut self, s: u32, a: Action, target: f32) {
        let q = &mut self.table.q[s as usize * self.table.actions + a as usize];
        *q += self.alpha * (target - *q);
    }

    /// Dyna-Q: records the real transition, then replays `planning_steps` remembered ones.
    fn plan(&mut self, s: u32, a: Action, r: f32, next: u32) {
        let entries = self.table.q.len();
        let entry = s * self.table.actions as u32 + a;
        let mut model = self.model.take().expect("Dyna-Q has a model");
        model.record(entry, r, next, entries, self.cfg.dyna_model);
        let n = model.seen.len() as u32;
        let actions = self.table.actions as u32;
        for _ in 0..self.cfg.planning_steps {
            let i = self.rng.below(n);
            let t = model.seen[i as usize];
            let target = if t.next == TERMINAL {
                t.reward
            } else {
                t.reward + self.gamma * self.max_q(t.next)
            };
            self.update(t.entry / actions, t.entry % actions, target);
        }
        self.model = Some(model);
    }

    /// The actions the shield forbids in `s` (0 without a shield), without side effects.
    #[inline]
    fn peek_forbidden(&self, s: u32) -> u64 {
        if let Some(cost) = &self.cost {
            return row_obs(&self.table, s, |obs| cost.mask(obs, s, self.actions));
        }
        self.shield.as_ref().map_or(0, |sh| sh.forbidden(s).0)
    }

    /// The actions the shield forbids in `s`; those it forbids for good are written into the
    /// table with `shield_q`.
    #[inline]
    fn forbidden(&mut self, s: u32) -> u64 {
        let (mask, for_good) = match (&self.shield, &self.cost) {
            (Some(shield), _) => shield.forbidden(s),
            (None, Some(_)) => (self.peek_forbidden(s), true),
            (None, None) => return 0,
        };
        if for_good && mask != 0 {
            let row = s as usize * self.table.actions;
            for a in 0..self.table.actions {
                if mask & (1 << a) != 0 {
                    self.table.q[row + a] = self.cfg.shield_q as f32;
                }
            }
        }
        mask
    }

    /// The behaviour policy's action in `s` after a step (or reset) with `info`.
    fn behave(&mut self, s: u32, info: &Info) -> Action {
        if self.experimenting(s) {
            return self.plan_action(s);
        }
        let forbidden = self.forbidden(s);
        let allowed = match self.all_actions & !forbidden {
            0 => self.all_actions,
            m => m,
        };
        let p = self.p_random_with(info);
        if p > 0.0 && self.rng.chance(p) {
            let k = self.rng.below(allowed.count_ones());
            return nth_bit(allowed, k);
        }
        match self.cfg.exploration {
            Exploration::EpsilonGreedy => self.greedy_random_ties(s, allowed),
            Exploration::Trazzi => {
                let scale = self.noise_scale;
                let (mut best, mut best_v) = (0, f64::NEG_INFINITY);
                for a in 0..self.table.actions {
                    // One draw per action, allowed or not, as the original draws a full vector.
                    let v = f64::from(self.q(s, a as Action)) + self.gaussian() * scale;
                    if allowed & (1 << a) != 0 && v > best_v {
                        (best, best_v) = (a, v);
                    }
                }
                best as Action
            }
        }
    }

    /// The allowed action of highest value, ties broken uniformly at random.
    #[inline]
    fn greedy_random_ties(&mut self, s: u32, allowed: u64) -> Action {
        let row = s as usize * self.table.actions;
        let (mut best, mut best_v, mut ties) = (0, f32::NEG_INFINITY, 0u32);
        for a in 0..self.table.actions {
            if allowed & (1 << a) == 0 {
                continue;
            }
            let v = self.table.q[row + a];
            if v > best_v {
                (best, best_v, ties) = (a, v, 1);
            } else if v == best_v {
                ties += 1;
                if self.rng.below(ties) == 0 {
                    best = a;
                }
            }
        }
        best as Action
    }

    /// A standard normal draw (Box–Muller, two per pair of uniforms).
    #[inline]
    fn gaussian(&mut self) -> f64 {
        if let Some(z) = self.spare_gaussian.take() {
            return z;
        }
        let u1 = 1.0 - self.rng.uniform();
        let u2 = self.rng.uniform();
        let radius = (-2.0 * u1.ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * u2).sin_cos();
        self.spare_gaussian = Some(radius * sin);
        radius * cos
    }
}

/// A table of the given rows, for a loaded policy; `Err(row)` names a state listed twice.
pub(crate) fn table_from_rows(
    actions: usize,
    obs_len: usize,
    states: Vec<f32>,
    q: Vec<f32>,
) -> Result<Table, usize> {
    Table::from_rows(actions, obs_len, states, q)
}

/// Calls `f` with the observation of row `s` (the index itself for a `Discrete` table).
#[inline]
fn row_obs<T>(table: &Table, s: u32, f: impl FnOnce(&[f32]) -> T) -> T {
    match &table.rows {
        table::Rows::Interned { states, .. } => {
            let n = table.obs_len;
            f(&states[s as usize * n..(s as usize + 1) * n])
        }
        table::Rows::Direct { .. } => f(&[s as f32]),
    }
}

/// The `k`-th set bit of `mask` (from the lowest).
#[inline]
fn nth_bit(mut mask: u64, k: u32) -> Action {
    for _ in 0..k {
        mask &= mask - 1;
    }
    mask.trailing_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_bit_walks_the_set_bits() {
        assert_eq!(nth_bit(0b1011_0100, 0), 2);
        assert_eq!(nth_bit(0b1011_0100, 1), 4);
        assert_eq!(nth_bit(0b1011_0100, 3), 7);
    }
}
