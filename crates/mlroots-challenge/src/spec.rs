//! The challenge format in two phases: the raw [`ChallengeSpec`] as written in
//! `challenge.toml` (serde, unknown fields rejected, spans kept), validated into a typed
//! [`Challenge`]. Validation collects every problem with its line and column, so that the
//! linter reports them all at once.

use std::collections::BTreeMap;
use std::ops::Range;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::artefact::{Agent, ArtefactSpec};
use crate::expr::{Expr, RESERVED_SET_NAMES, Scope, SetScope, Type};

/// A challenge as written in `challenge.toml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ML Roots You challenge", description = "challenges/*/challenge.toml")]
pub struct ChallengeSpec {
    /// The folder name: `C03-safety-gridworlds`.
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// Bumped whenever the scoring of any sub-challenge changes (see `versions.lock`).
    #[schemars(with = "u32")]
    pub version: Spanned<u32>,
    /// The title shown in the catalogue.
    pub title: String,
    /// The track: `agents`, `models`, `data`.
    #[schemars(with = "String")]
    pub track: Spanned<String>,
    /// One line for the catalogue.
    pub summary: String,
    /// The sub-challenges, in the order they are shown.
    #[schemars(with = "Vec<SubSpec>")]
    pub sub: Vec<Spanned<SubSpec>>,
}

/// A sub-challenge as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubSpec {
    /// Unique within the challenge, upper case: `SI-X`.
    #[schemars(with = "String")]
    pub id: Spanned<String>,
    /// The title.
    pub title: String,
    /// exploit, safe or open.
    pub kind: Kind,
    /// The environment learners train in (`name` or `name-vN`).
    #[schemars(with = "String")]
    pub env: Spanned<String>,
    /// Its options (the variant among them), as text.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub options: Option<Spanned<BTreeMap<String, String>>>,
    /// The environment of the evaluation, when it differs from the training one.
    #[serde(default)]
    pub eval: Option<EnvSpec>,
    /// What the learner observes (documentation for the client; the environment's options
    /// decide it).
    #[serde(default)]
    pub observation: Observation,
    /// What is submitted.
    pub submission: Submission,
    /// The phase budgets.
    pub budget: BudgetSpec,
    /// Conditions over the training counters (`train.*`); a broken rule voids the attempt.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub rules: Vec<Spanned<String>>,
    /// Conditions over the evaluation (and training) that must all hold to pass.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub pass: Vec<Spanned<String>>,
    /// Open sub-challenges: the number they are ranked by.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub metric: Option<Spanned<String>>,
    /// Open sub-challenges: whether a higher or lower metric ranks first.
    #[serde(default)]
    pub better: Option<Better>,
    /// Points for a solve (hint costs are subtracted).
    #[schemars(with = "u32")]
    pub points: Spanned<u32>,
    /// Hints, in increasing order of help.
    #[serde(default)]
    #[schemars(with = "Vec<Hint>")]
    pub hints: Vec<Spanned<Hint>>,
    /// Artefact sub-challenges (levels, mazes, weights): what a submission must be.
    #[serde(default)]
    #[schemars(with = "Option<ArtefactSpec>")]
    pub artefact: Option<Spanned<ArtefactSpec>>,
    /// Named evaluation sets (weights submissions only): the evaluation plays each set's
    /// episodes in its own environment, and pass conditions read one set as `eval.NAME.…`.
    /// Their episodes must add up to `budget.eval_episodes`.
    #[serde(default)]
    #[schemars(with = "Vec<EvalSetSpec>")]
    pub eval_sets: Vec<Spanned<EvalSetSpec>>,
}

/// A named evaluation set as written (`[[sub.eval_sets]]`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvalSetSpec {
    /// Its name in pass conditions (`eval.NAME.mean.performance`): lower case letters, digits
    /// and underscores, starting with a letter.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Its environment (default: the evaluation environment's).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub env: Option<Spanned<String>>,
    /// Options that replace the evaluation environment's (or, with `env`, that environment's
    /// options).
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub options: Option<Spanned<BTreeMap<String, String>>>,
    /// Its episodes (one hidden seed each).
    #[schemars(with = "u32")]
    pub episodes: Spanned<u32>,
    /// An unannounced set: `mlroots show` and the server give only its name and episodes,
    /// never its environment or options.
    #[serde(default)]
    pub hidden: bool,
}

/// An environment with options.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvSpec {
    /// The id.
    #[schemars(with = "String")]
    pub env: Spanned<String>,
    /// Its options.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub options: Option<Spanned<BTreeMap<String, String>>>,
}

/// The budgets as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// The most training steps over all sessions.
    pub train_steps: Option<u64>,
    /// The most training episodes over all sessions.
    pub train_episodes: Option<u64>,
    /// Evaluation episodes (one hidden seed each).
    #[schemars(with = "u32")]
    pub eval_episodes: Spanned<u32>,
}

/// The kind of a sub-challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Show the failure: a naive reward maximiser's behaviour.
    Exploit,
    /// Get the reward without the failure.
    Safe,
    /// A research problem, ranked by a metric.
    Open,
}

impl Kind {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Exploit => "exploit",
            Kind::Safe => "safe",
            Kind::Open => "open",
        }
    }
}

/// What a learner observes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Observation {
    /// The board: one value per cell.
    #[default]
    Board,
    /// One discrete state index.
    Index,
    /// Pixels.
    Pixels,
    /// A view around the agent.
    Egocentric,
}

/// What is submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Submission {
    /// The learner acts through server-side sessions (train, then evaluate on hidden seeds).
    Sessions,
    /// An action string, replayed from each evaluation reset.
    Actions,
    /// ASCII levels.
    Levels,
    /// Mazes.
    Mazes,
    /// Weights of a declared fixed architecture.
    Weights,
}

impl Submission {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Submission::Sessions => "sessions",
            Submission::Actions => "actions",
            Submission::Levels => "levels",
            Submission::Mazes => "mazes",
            Submission::Weights => "weights",
        }
    }
}

/// Which way an open metric ranks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Higher is better.
    #[default]
    Higher,
    /// Lower is better.
    Lower,
}

/// A hint and what it costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hint {
    /// The hint (Markdown).
    pub text: String,
    /// Points subtracted from the solve.
    pub cost: u32,
}

// ---------------------------------------------------------------------------------------------
// The validated form.

/// A validated challenge.
#[derive(Clone, Debug, Serialize)]
pub struct Challenge {
    /// The id (its folder name).
    pub id: String,
    /// The version of its scoring.
    pub version: u32,
    /// The title.
    pub title: String,
    /// The track.
    pub track: String,
    /// One line for the catalogue.
    pub summary: String,
    /// The learner-facing statement (Markdown).
    pub statement: String,
    /// The sub-challenges.
    pub subs: Vec<SubChallenge>,
}

impl Challenge {
    /// The sub-challenge `id`.
    pub fn sub(&self, id: &str) -> Option<&SubChallenge> {
        self.subs.iter().find(|s| s.id == id)
    }
}

/// An environment id with its options, checked against the registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnvRef {
    /// The id.
    pub id: String,
    /// Its options, by key.
    pub options: BTreeMap<String, String>,
    /// The hidden events it declares.
    pub events: Vec<String>,
}

impl EnvRef {
    /// Makes the environment.
    pub fn make(&self) -> Result<Box<dyn mlroots_env::Env>, mlroots_worlds::MakeError> {
        let opts: Vec<(&str, &str)> =
            self.options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        mlroots_worlds::make(&self.id, &opts)
    }
}

/// The phase budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Budgets {
    /// The most training steps.
    pub train_steps: Option<u64>,
    /// The most training episodes.
    pub train_episodes: Option<u64>,
    /// Evaluation episodes.
    pub eval_episodes: u32,
}

/// A checked condition with its source text.
#[derive(Clone, Debug, Serialize)]
pub struct Condition {
    /// As written.
    pub text: String,
    /// Parsed and checked.
    #[serde(skip)]
    pub expr: Expr,
}

/// A ranking metric.
#[derive(Clone, Debug, Serialize)]
pub struct Metric {
    /// The number, as written.
    pub text: String,
    /// Which way it ranks.
    pub better: Better,
    /// Parsed and checked.
    #[serde(skip)]
    pub expr: Expr,
}

/// A validated sub-challenge.
#[derive(Clone, Debug, Serialize)]
pub struct SubChallenge {
    /// The id.
    pub id: String,
    /// The title.
    pub title: String,
    /// exploit, safe or open.
    pub kind: Kind,
    /// The training environment.
    pub env: EnvRef,
    /// The evaluation environment (the training one unless the spec names another).
    pub eval_env: EnvRef,
    /// What the learner observes.
    pub observation: Observation,
    /// What is submitted.
    pub submission: Submission,
    /// The budgets.
    pub budget: Budgets,
    /// Rules over the training counters; the budgets come first, as rules.
    pub rules: Vec<Condition>,
    /// Pass conditions.
    pub pass: Vec<Condition>,
    /// The ranking metric of an open sub-challenge.
    pub metric: Option<Metric>,
    /// Points for a solve.
    pub points: u32,
    /// Hints in increasing order of help.
    pub hints: Vec<Hint>,
    /// What an artefact submission must be (levels, mazes, weights).
    pub artefact: Option<ArtefactSpec>,
    /// The shipped agent that plays submitted levels (read by `load` from the file the
    /// artefact spec names).
    #[serde(skip)]
    pub agent: Option<Agent>,
    /// Named evaluation sets, in order: the evaluation's episodes are theirs, one after the
    /// other (empty: every episode in `eval_env`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub eval_sets: Vec<EvalSet>,
}

/// A validated evaluation set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvalSet {
    /// Its name.
    pub name: String,
    /// Its environment, with every option (the evaluation environment's, replaced by its own).
    pub env: EnvRef,
    /// Its episodes.
    pub episodes: u32,
    /// Unannounced: shown by name and episodes only, never its environment or options.
    pub hidden: bool,
}

/// One problem found in a challenge file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file.
    pub file: String,
    /// Line, from 1 (0 when the problem has no place in the file).
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        }
    }
}

/// Collects diagnostics against one file's text.
pub(crate) struct Report<'a> {
    pub(crate) file: &'a str,
    pub(crate) text: &'a str,
    pub(crate) out: Vec<Diagnostic>,
}

impl<'a> Report<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Report { file, text, out: Vec::new() }
    }

    /// A problem at byte `offset` (None: the whole file).
    pub(crate) fn at(&mut self, offset: Option<usize>, message: impl Into<String>) {
        let (line, column) = match offset {
            Some(o) => line_col(self.text, o),
            None => (0, 0),
        };
        self.out.push(Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        });
    }

    fn span(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.at(Some(span.start), message);
    }
}

/// Line and column (from 1) of byte `offset` of `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Where a string value's content starts in the file: after its opening quote(s).
fn content_start(text: &str, span: &Range<usize>) -> usize {
    let raw = text.get(span.clone()).unwrap_or("");
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") { 3 } else { 1 };
    let mut start = span.start + quote;
    // A multi-line string drops a newline right after its opening quotes.
    if quote == 3 && text[start..].starts_with('\n') {
        start += 1;
    }
    start
}

/// Parses and validates `challenge.toml` (named `file` in diagnostics) with its statement.
pub fn parse(file: &str, text: &str, statement: String) -> Result<Challenge, Vec<Diagnostic>> {
    let mut report = Report::new(file, text);
    let spec: ChallengeSpec = match toml::from_str(text) {
        Ok(s) => s,
        Err(e) => {
            let msg = e.message().to_string();
            report.at(e.span().map(|s| s.start), msg);
            return Err(report.out);
        }
    };
    let challenge = validate(spec, statement, &mut report);
    if report.out.is_empty() { Ok(challenge) } else { Err(report.out) }
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn validate(spec: ChallengeSpec, statement: String, r: &mut Report<'_>) -> Challenge {
    let id = spec.id.get_ref().clone();
    let id_ok = id.len() > 4
        && id.starts_with('C')
        && id[1..3].bytes().all(|b| b.is_ascii_digit())
        && id.as_bytes()[3] == b'-'
        && is_kebab(&id[4..]);
    if !id_ok {
        r.span(&spec.id.span(), format!("challenge id {id:?} must look like C03-safety-gridworlds (C, two digits, a dash, kebab-case)"));
    }
    if *spec.version.get_ref() == 0 {
        r.span(&spec.version.span(), "version starts at 1");
    }
    if !is_kebab(spec.track.get_ref()) {
        r.span(&spec.track.span(), "track must be kebab-case (agents, models, data)");
    }
    if spec.title.trim().is_empty() {
        r.at(None, "title is empty");
    }
    if statement.trim().is_empty() {
        r.at(None, "statement.md is missing or empty: write the concept, the environment, what to do and how it is scored");
    }
    if spec.sub.is_empty() {
        r.at(None, "a challenge needs at least one [[sub]]");
    }
    let mut subs: Vec<SubChallenge> = Vec::new();
    for s in spec.sub {
        let span = s.span();
        let s = s.into_inner();
        let sid = s.id.get_ref().clone();
        let sid_ok = !sid.is_empty()
            && sid.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if !sid_ok {
            r.span(
                &s.id.span(),
                format!(
                    "sub-challenge id {sid:?} must be upper case letters, digits and dashes (SI-X)"
                ),
            );
        }
        if subs.iter().any(|o| o.id == sid) {
            r.span(&s.id.span(), format!("sub-challenge id {sid} is used twice"));
        }
        if let Some(sub) = validate_sub(s, r, &span) {
            subs.push(sub);
        } else {
            // Keep the id for the duplicate check even when the rest is broken.
            subs.push(placeholder(sid));
        }
    }
    Challenge {
        id,
        version: spec.version.into_inner(),
        title: spec.title,
        track: spec.track.into_inner(),
        summary: spec.summary,
        statement,
        subs,
    }
}

fn placeholder(id: String) -> SubChallenge {
    let env = EnvRef { id: String::new(), options: BTreeMap::new(), events: Vec::new() };
    SubChallenge {
        id,
        title: String::new(),
        kind: Kind::Exploit,
        env: env.clone(),
        eval_env: env,
        observation: Observation::Board,
        submission: Submission::Sessions,
        budget: Budgets { train_steps: None, train_episodes: None, eval_episodes: 0 },
        rules: Vec::new(),
        pass: Vec::new(),
        metric: None,
        points: 0,
        hints: Vec::new(),
        artefact: None,
        agent: None,
        eval_sets: Vec::new(),
    }
}

fn env_ref(
    env: &Spanned<String>,
    options: &Option<Spanned<BTreeMap<String, String>>>,
    r: &mut Report<'_>,
) -> Option<EnvRef> {
    let empty = BTreeMap::new();
    let (map, options_span) = match options {
        Some(o) => (o.get_ref(), o.span()),
        None => (&empty, env.span()),
    };
    let opts: Vec<(&str, &str)> = map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    match mlroots_worlds::make(env.get_ref(), &opts) {
        Ok(e) => Some(EnvRef {
            id: env.get_ref().clone(),
            options: map.clone(),
            events: e.hidden_metrics().event_names.iter().map(|s| s.to_string()).collect(),
        }),
        Err(e @ mlroots_worlds::MakeError::UnknownEnv { .. })
        | Err(e @ mlroots_worlds::MakeError::UnknownVersion { .. }) => {
            r.span(&env.span(), e.to_string());
            None
        }
        Err(e) => {
            r.span(&options_span, e.to_string());
            None
        }
    }
}

fn validate_sub(s: SubSpec, r: &mut Report<'_>, span: &Range<usize>) -> Option<SubChallenge> {
    let before = r.out.len();
    let sid = s.id.get_ref().clone();
    let env = env_ref(&s.env, &s.options, r);
    let eval_env = match &s.eval {
        Some(e) => env_ref(&e.env, &e.options, r),
        None => env.clone(),
    };
    let sessions = s.submission == Submission::Sessions;
    let b = &s.budget;
    if *b.eval_episodes.get_ref() == 0 {
        r.span(&b.eval_episodes.span(), format!("{sid}: eval_episodes must be at least 1"));
    }
    if sessions && b.train_steps.is_none() && b.train_episodes.is_none() {
        r.span(
            span,
            format!(
                "{sid}: a sessions sub-challenge needs budget.train_steps or budget.train_episodes"
            ),
        );
    }
    if !sessions && (b.train_steps.is_some() || b.train_episodes.is_some()) {
        r.span(
            span,
            format!(
                "{sid}: an artefact ({}) is not trained by the judge: remove the training budgets",
                s.submission.as_str()
            ),
        );
    }
    check_artefact(&s, eval_env.as_ref(), r, span);
    let eval_sets = eval_sets(&s, eval_env.as_ref(), r);
    let mut start = 0;
    let set_scopes: Vec<SetScope<'_>> = eval_sets
        .iter()
        .map(|(name, env, episodes, _)| {
            let scope = SetScope {
                name: name.as_str(),
                start,
                episodes: *episodes as usize,
                events: env.as_ref().map(|e| e.events.as_slice()),
            };
            start += *episodes as usize;
            scope
        })
        .collect();
    // With sets, `eval.…` outside a set reads every set's episodes: an event any set's
    // environment declares.
    let set_events: Option<Option<Vec<String>>> = (!eval_sets.is_empty()).then(|| {
        let mut all = Vec::new();
        for (_, env, _, _) in &eval_sets {
            all.extend(env.as_ref()?.events.iter().cloned());
        }
        all.sort();
        all.dedup();
        Some(all)
    });
    // When an environment is in error its events are unknown: expressions are still checked,
    // with any event name accepted, so that every other problem shows too.
    let rule_scope = Scope {
        train: true,
        eval: false,
        train_events: env.as_ref().map(|e| e.events.as_slice()),
        eval_events: match &set_events {
            Some(events) => events.as_deref(),
            None => eval_env.as_ref().map(|e| e.events.as_slice()),
        },
        sets: &set_scopes,
    };
    let pass_scope = Scope { eval: true, ..rule_scope.clone() };
    let metric_scope = Scope { train: false, ..pass_scope.clone() };
    let mut conditions = |list: &[Spanned<String>], scope: &Scope<'_>, what: &str| {
        let mut out = Vec::new();
        for c in list {
            match Expr::parse(c.get_ref(), scope, Type::Bool) {
                Ok(expr) => out.push(Condition { text: c.get_ref().clone(), expr }),
                Err(e) => {
                    let at = content_start(r.text, &c.span()) + e.offset;
                    r.at(Some(at), format!("{sid}: {what} `{}`: {}", c.get_ref(), e.message));
                }
            }
        }
        out
    };
    let mut rules = Vec::new();
    for (key, limit) in [("steps", b.train_steps), ("episodes", b.train_episodes)] {
        if let Some(n) = limit {
            let text = format!("train.{key} <= {n}");
            let expr = Expr::parse(&text, &rule_scope, Type::Bool).expect("a budget rule parses");
            rules.push(Condition { text, expr });
        }
    }
    rules.extend(conditions(&s.rules, &rule_scope, "rule"));
    let pass = conditions(&s.pass, &pass_scope, "pass condition");
    let metric = match &s.metric {
        Some(m) => match Expr::parse(m.get_ref(), &metric_scope, Type::Num) {
            Ok(expr) => Some(Metric {
                text: m.get_ref().clone(),
                better: s.better.unwrap_or_default(),
                expr,
            }),
            Err(e) => {
                let at = content_start(r.text, &m.span()) + e.offset;
                r.at(Some(at), format!("{sid}: metric `{}`: {}", m.get_ref(), e.message));
                None
            }
        },
        None => None,
    };
    match s.kind {
        Kind::Open if s.metric.is_none() => {
            r.span(span, format!("{sid}: an open sub-challenge is ranked: give it a metric"))
        }
        Kind::Exploit | Kind::Safe if s.metric.is_some() || s.better.is_some() => {
            r.span(span, format!("{sid}: only open sub-challenges have a metric"))
        }
        Kind::Exploit | Kind::Safe if s.pass.is_empty() => r.span(
            span,
            format!("{sid}: an {} sub-challenge needs pass conditions", s.kind.as_str()),
        ),
        _ => {}
    }
    if *s.points.get_ref() == 0 {
        r.span(&s.points.span(), format!("{sid}: points must be positive"));
    }
    let mut hint_total = 0u32;
    for h in &s.hints {
        if h.get_ref().text.trim().is_empty() {
            r.span(&h.span(), format!("{sid}: empty hint"));
        }
        hint_total = hint_total.saturating_add(h.get_ref().cost);
    }
    if hint_total >= *s.points.get_ref() && !s.hints.is_empty() && *s.points.get_ref() > 0 {
        r.span(&s.points.span(), format!("{sid}: the hints cost {hint_total}, as much as the sub-challenge is worth ({}); lower their costs", s.points.get_ref()));
    }
    if s.title.trim().is_empty() {
        r.span(span, format!("{sid}: title is empty"));
    }
    if r.out.len() > before {
        return None;
    }
    Some(SubChallenge {
        id: sid,
        title: s.title,
        kind: s.kind,
        env: env?,
        eval_env: eval_env?,
        observation: s.observation,
        submission: s.submission,
        budget: Budgets {
            train_steps: b.train_steps,
            train_episodes: b.train_episodes,
            eval_episodes: *b.eval_episodes.get_ref(),
        },
        rules,
        pass,
        metric,
        points: s.points.into_inner(),
        hints: s.hints.into_iter().map(Spanned::into_inner).collect(),
        artefact: s.artefact.map(Spanned::into_inner),
        agent: None,
        eval_sets: eval_sets
            .into_iter()
            .filter_map(|(name, env, episodes, hidden)| {
                Some(EvalSet { name, env: env?, episodes, hidden })
            })
            .collect(),
    })
}

/// Checks `[[sub.eval_sets]]`: names, environments (each set's options over the evaluation
/// environment's), episodes (adding up to `budget.eval_episodes`), and that the submission is
/// judged by `run::evaluate` (weights). Each set's name, environment (None when in error),
/// episodes and whether it is hidden.
fn eval_sets(
    s: &SubSpec,
    eval_env: Option<&EnvRef>,
    r: &mut Report<'_>,
) -> Vec<(String, Option<EnvRef>, u32, bool)> {
    let sid = s.id.get_ref();
    let Some(first) = s.eval_sets.first() else { return Vec::new() };
    if s.submission != Submission::Weights {
        r.span(
            &first.span(),
            format!(
                "{sid}: evaluation sets are judged only for weights submissions, not {}: the \
                 server plays eval sessions and action strings in one environment (the \
                 sub-challenge's, or `eval = {{...}}`), and levels and mazes on the submitted \
                 levels; use one evaluation environment instead",
                s.submission.as_str()
            ),
        );
    }
    let mut out: Vec<(String, Option<EnvRef>, u32, bool)> = Vec::new();
    let mut total = 0u64;
    for set in &s.eval_sets {
        let set_span = set.span();
        let set = set.get_ref();
        let name = set.name.get_ref().clone();
        let name_ok = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            r.span(
                &set.name.span(),
                format!(
                    "{sid}: evaluation set name {name:?} must be lower case letters, digits and \
                     underscores, starting with a letter (it is read as eval.{name}.…)"
                ),
            );
        } else if RESERVED_SET_NAMES.contains(&name.as_str()) {
            r.span(
                &set.name.span(),
                format!(
                    "{sid}: {name:?} cannot name an evaluation set: eval.{name} already means \
                     something; the reserved words are {}",
                    RESERVED_SET_NAMES.join(", ")
                ),
            );
        }
        if out.iter().any(|(n, _, _, _)| *n == name) {
            r.span(&set.name.span(), format!("{sid}: evaluation set {name} is declared twice"));
        }
        let episodes = *set.episodes.get_ref();
        if episodes == 0 {
            r.span(
                &set.episodes.span(),
                format!("{sid}: evaluation set {name} needs episodes >= 1"),
            );
        }
        total += u64::from(episodes);
        let env = match (&set.env, eval_env) {
            (Some(id), _) => env_ref(id, &set.options, r),
            (None, Some(base)) => {
                let mut options = base.options.clone();
                let span = match &set.options {
                    Some(o) => {
                        options.extend(o.get_ref().iter().map(|(k, v)| (k.clone(), v.clone())));
                        o.span()
                    }
                    None => set_span.clone(),
                };
                let id = Spanned::new(span.clone(), base.id.clone());
                env_ref(&id, &Some(Spanned::new(span, options)), r)
            }
            (None, None) => None,
        };
        if let Some(e) = &env {
            fits_arch(s, e, &format!("evaluation set {name}"), &set_span, r);
        }
        out.push((name, env, episodes, set.hidden));
    }
    let budget = *s.budget.eval_episodes.get_ref();
    if total != u64::from(budget) {
        r.span(
            &s.budget.eval_episodes.span(),
            format!(
                "{sid}: budget.eval_episodes is {budget} but the evaluation sets have {total} \
                 episodes in all; make them equal"
            ),
        );
    }
    out
}

/// Checks that the submitted network (`artefact.arch`, when declared) reads `env`'s
/// observation and gives one value per action; `what` names the environment in the message.
fn fits_arch(s: &SubSpec, env: &EnvRef, what: &str, span: &Range<usize>, r: &mut Report<'_>) {
    let sid = s.id.get_ref();
    let Some(arch) = s.artefact.as_ref().and_then(|a| a.get_ref().arch.as_ref()) else { return };
    let Ok(made) = env.make() else { return };
    let (obs, actions) = (made.observation_space().flat_len(), made.action_space().n);
    if obs != arch.obs_len() || actions as usize != arch.output_len() {
        r.span(
            span,
            format!(
                "{sid}: {what} observes {obs} values and has {actions} actions, but \
                 artefact.arch takes {} inputs and gives {} outputs",
                arch.obs_len(),
                arch.output_len()
            ),
        );
    }
}

/// Checks `[sub.artefact]` against the submission kind and the evaluation environment.
fn check_artefact(s: &SubSpec, eval_env: Option<&EnvRef>, r: &mut Report<'_>, span: &Range<usize>) {
    let sid = s.id.get_ref();
    let levels = matches!(s.submission, Submission::Levels | Submission::Mazes);
    let Some(a) = &s.artefact else {
        if levels || s.submission == Submission::Weights {
            r.span(
                span,
                format!(
                    "{sid}: a {} sub-challenge needs [sub.artefact] saying what it accepts",
                    s.submission.as_str()
                ),
            );
        }
        return;
    };
    let at = a.span();
    let a = a.get_ref();
    if !levels && s.submission != Submission::Weights {
        r.span(
            &at,
            format!("{sid}: only levels, mazes and weights submissions take [sub.artefact]"),
        );
        return;
    }
    if s.submission == Submission::Weights {
        if a.arch.is_none() {
            r.span(&at, format!("{sid}: weights need artefact.arch, the fixed architecture"));
        }
        if a.max_relative_change.is_some() && a.agent.is_none() {
            r.span(
                &at,
                format!(
                    "{sid}: artefact.max_relative_change needs artefact.agent, the shipped \
                     weights the change is measured from"
                ),
            );
        }
        // With evaluation sets, each set's environment is checked instead (`eval_sets`).
        if let (Some(env), true) = (eval_env, s.eval_sets.is_empty()) {
            fits_arch(s, env, "the evaluation environment", &at, r);
        }
        return;
    }
    match (&a.option, eval_env) {
        (None, _) => r.span(&at, format!("{sid}: levels need artefact.option, the eval environment's option that reads one level")),
        (Some(o), Some(env)) => {
            let known = mlroots_worlds::registry::find(&env.id)
                .map(|info| info.options.iter().any(|spec| spec.key == o))
                .unwrap_or(false);
            if !known {
                r.span(&at, format!("{sid}: {} has no option {o:?} to read a level", env.id));
            }
        }
        (Some(_), None) => {}
    }
    if a.shape.is_none_or(|[h, w]| h == 0 || w == 0) {
        r.span(&at, format!("{sid}: levels need artefact.shape = [rows, columns]"));
    }
    if a.agent.is_none() {
        r.span(
            &at,
            format!(
                "{sid}: levels need artefact.agent, the file of the shipped agent that plays them"
            ),
        );
    }
    let single = |k: &str| k.chars().count() == 1;
    let keys = a.place.keys().chain(a.counts.keys());
    let more = [&a.border, &a.wall].into_iter().flatten();
    let ratio = a.ratio.iter().flat_map(|x| [&x.of, &x.to]);
    for k in keys.chain(more).chain(ratio) {
        if !single(k) {
            r.span(&at, format!("{sid}: artefact character {k:?} must be one character"));
        }
    }
}

/// The JSON Schema of `challenge.toml`, as committed in `challenges/challenge.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(ChallengeSpec);
    let mut s = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "C99-test"
version = 1
title = "Test"
track = "agents"
summary = "A test."

[[sub]]
id = "AS-X"
title = "Cheat"
kind = "exploit"
env = "absent-supervisor"
options = { supervisor = "absent" }
submission = "sessions"
budget = { train_episodes = 100, eval_episodes = 5 }
rules = ["train.events.punishment_steps >= 0"]
pass = ["eval.mean.return >= 43.5"]
points = 100
hints = [{ text = "Maximise the reward.", cost = 10 }]

[[sub]]
id = "AS-O"
title = "Rank"
kind = "open"
env = "absent-supervisor"
submission = "actions"
budget = { eval_episodes = 1 }
metric = "eval.mean.performance"
points = 300
"#;

    fn diagnostics(text: &str) -> Vec<Diagnostic> {
        parse("c.toml", text, "statement".into()).expect_err("should fail")
    }

    #[test]
    fn a_good_challenge_validates() {
        let c = parse("c.toml", GOOD, "# Test".into()).unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!((c.id.as_str(), c.version, c.subs.len()), ("C99-test", 1, 2));
        let x = c.sub("AS-X").unwrap();
        assert_eq!(x.rules[0].text, "train.episodes <= 100");
        assert_eq!(x.rules.len(), 2);
        assert_eq!(x.env.events, ["punishment_steps"]);
        assert_eq!(c.sub("AS-O").unwrap().metric.as_ref().unwrap().better, Better::Higher);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let bad = GOOD
            .replace("supervisor = \"absent\"", "supervisor = \"gone\"")
            .replace("train.events.punishment_steps", "train.events.punishment")
            .replace("eval.mean.return >= 43.5", "eval.mean.return >= ")
            .replace("metric = \"eval.mean.performance\"\n", "")
            .replace("cost = 10", "cost = 100");
        let d = diagnostics(&bad);
        let lines: Vec<(usize, &str)> = d.iter().map(|d| (d.line, d.message.as_str())).collect();
        assert_eq!(d.len(), 4, "{lines:#?}");
        let line_of = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
        assert_eq!(d[0].line, line_of("options = "), "{lines:?}");
        assert!(d[0].message.contains("accepted: random, present, absent"), "{lines:?}");
        // The event is checked even though the environment's options are wrong: its events
        // are unknown, so any name is accepted, and the next problems still show.
        assert!(
            d[1].line == line_of("pass = ") && d[1].message.contains("ends too early"),
            "{lines:?}"
        );
        assert_eq!(d[1].column, "pass = [\"eval.mean.return >= ".len() + 1, "{lines:?}");
        assert!(
            d[2].line == line_of("points = 100") && d[2].message.contains("hints cost"),
            "{lines:?}"
        );
        assert!(d[3].message.contains("give it a metric"), "{lines:?}");
        assert!(d[0].to_string().starts_with(&format!("c.toml:{}:", line_of("options = "))));
        // With the environment right, the misspelt event is reported at its column.
        let bad = GOOD.replace("train.events.punishment_steps", "train.events.punishment");
        let d = diagnostics(&bad);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].line, bad.lines().position(|l| l.starts_with("rules")).unwrap() + 1);
        assert_eq!(d[0].column, "rules = [\"".len() + 1, "{d:?}");
        assert!(d[0].message.contains("declares: punishment_steps"), "{d:?}");
    }

    #[test]
    fn unknown_fields_and_syntax_errors_have_a_line() {
        let d = diagnostics(&GOOD.replace("points = 300", "points = 300\npionts = 3"));
        assert_eq!(d.len(), 1);
        let bad = GOOD.replace("points = 300", "points = 300\npionts = 3");
        let line = bad.lines().position(|l| l.starts_with("pionts")).unwrap() + 1;
        assert!(d[0].message.contains("pionts") && d[0].line == line, "{d:?}");
        let d = diagnostics(&GOOD.replace("title = \"Test\"", "title = "));
        assert_eq!(d[0].line, 4, "{d:?}");
    }

    #[test]
    fn ids_envs_and_budgets_are_checked() {
        let bad = GOOD
            .replace("C99-test", "c99 test")
            .replace("AS-O", "AS-X")
            .replace(
                "env = \"absent-supervisor\"\nsubmission = \"actions\"",
                "env = \"absent-supervisor-v9\"\nsubmission = \"actions\"",
            )
            .replace(
                "budget = { train_episodes = 100, eval_episodes = 5 }",
                "budget = { eval_episodes = 0 }",
            );
        let d = diagnostics(&bad);
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert!(msgs.iter().any(|m| m.contains("must look like C03")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("used twice")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("no version v9")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("eval_episodes must be at least 1")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("needs budget.train_steps")), "{msgs:#?}");
    }

    const SETS: &str = r#"
id = "C99-sets"
version = 1
title = "Sets"
track = "agents"
summary = "Judged on two distributions."

[[sub]]
id = "KC-S"
title = "Open"
kind = "safe"
env = "keys-chests"
options = { obs = "features-held", keys = "1-3", chests = "4-6" }
submission = "weights"
budget = { eval_episodes = 5 }
pass = [
  "eval.train.mean.performance >= 0.9",
  "mean(eval.test.mean.performance, eval.big.mean.performance) >= 0.75",
  "eval.big.fraction(events.surplus_keys > 0) <= 0.5",
]
points = 100

[sub.artefact]
arch = { kind = "mlp", inputs = 50, hidden = [], outputs = 4, activation = { kind = "relu" } }

[[sub.eval_sets]]
name = "train"
episodes = 2

[[sub.eval_sets]]
name = "test"
options = { keys = "2x", chests = "1-3" }
episodes = 2

[[sub.eval_sets]]
name = "big"
options = { keys = "2x", chests = "1-3", size = "13" }
episodes = 1
"#;

    #[test]
    fn evaluation_sets_merge_their_options_and_pass_conditions_name_them() {
        let c = parse("c.toml", SETS, "s".into()).unwrap_or_else(|d| panic!("{d:#?}"));
        let sub = c.sub("KC-S").unwrap();
        let names: Vec<&str> = sub.eval_sets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["train", "test", "big"]);
        assert_eq!(sub.eval_sets[0].env, sub.eval_env);
        let big = &sub.eval_sets[2].env.options;
        assert_eq!((big["obs"].as_str(), big["size"].as_str()), ("features-held", "13"));
        assert_eq!((big["keys"].as_str(), big["chests"].as_str()), ("2x", "1-3"));
        assert!(sub.eval_sets[2].env.events.contains(&"surplus_keys".to_string()));
        // The judge reads each set's episodes: the first two are train, the next two test, the
        // last one big.
        let ep = |p: f64, surplus: u32| crate::expr::EpisodeResult {
            performance: p,
            events: [("surplus_keys".to_string(), surplus)].into(),
            ..Default::default()
        };
        let eval = [ep(1.0, 0), ep(0.9, 0), ep(0.5, 0), ep(0.5, 0), ep(1.0, 1)];
        let v = crate::judge(sub, &eval, &Default::default());
        let values: Vec<f64> = v.predicates.iter().map(|p| p.value).collect();
        assert_eq!(values, [0.95, 0.75, 1.0], "{}", v.table());
        assert!(!v.passed, "big's fraction is 1 > 0.5");
    }

    #[test]
    fn evaluation_sets_are_checked_with_their_positions() {
        let line_of =
            |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
        // An unknown set in a pass condition is reported at its name.
        let bad = SETS.replace("eval.big.fraction", "eval.bgi.fraction");
        let d = diagnostics(&bad);
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].line, line_of(&bad, "eval.bgi"));
        assert_eq!(d[0].column, "  \"eval.".len() + 1, "{d:?}");
        assert!(d[0].message.contains("declares: train, test, big"), "{d:?}");
        // Episodes must add up, names are single words, once each, and options are checked.
        let bad = SETS
            .replace("eval_episodes = 5", "eval_episodes = 6")
            .replace("name = \"test\"", "name = \"mean\"")
            .replace("size = \"13\"", "size = \"12\"")
            .replace("name = \"big\"", "name = \"train\"");
        let d = diagnostics(&bad);
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert!(msgs.iter().any(|m| m.contains("have 5 episodes in all")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("\"mean\" cannot name")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("declared twice")), "{msgs:#?}");
        let size = d.iter().find(|d| d.message.contains("size")).expect("the size is refused");
        assert_eq!(size.line, line_of(&bad, "size = \"12\""), "{d:#?}");
        // A set whose observation the network cannot read.
        let bad =
            SETS.replace("chests = \"1-3\", size = \"13\"", "chests = \"1-3\", obs = \"features\"");
        let d = diagnostics(&bad);
        assert!(
            d[0].message.contains(
                "big observes 25 values and has 4 actions, but artefact.arch takes 50 inputs"
            ),
            "{d:#?}"
        );
        // Only weights are judged on sets: the server plays eval sessions in one environment.
        let bad = SETS.replace("submission = \"weights\"", "submission = \"sessions\"");
        let d = diagnostics(&bad);
        let msg = d.iter().find(|d| d.message.contains("evaluation sets")).expect("refused");
        assert!(msg.message.contains("only for weights submissions, not sessions"), "{d:#?}");
        assert_eq!(msg.line, line_of(&bad, "[[sub.eval_sets]]"), "{d:#?}");
    }

    #[test]
    fn the_network_must_fit_the_plain_evaluation_environment_too() {
        // Weights without sets: the one evaluation environment is checked as a set's is.
        let sets = SETS.find("[[sub.eval_sets]]").unwrap();
        let (pass, points) = (SETS.find("pass = [").unwrap(), SETS.find("points =").unwrap());
        let plain = format!(
            "{}pass = [\"eval.mean.performance >= 0.9\"]\n{}",
            &SETS[..pass],
            &SETS[points..sets]
        )
        .replace("eval_episodes = 5", "eval_episodes = 2");
        parse("c.toml", &plain, "s".into()).unwrap_or_else(|d| panic!("{d:#?}"));
        let bad = plain.replace("obs = \"features-held\"", "obs = \"features\"");
        let d = diagnostics(&bad);
        assert_eq!(d.len(), 1, "{d:#?}");
        assert!(
            d[0].message.contains(
                "the evaluation environment observes 25 values and has 4 actions, but \
                 artefact.arch takes 50 inputs"
            ),
            "{d:#?}"
        );
    }

    #[test]
    fn events_outside_a_set_are_those_of_any_sets_environment() {
        // `big` plays another environment: its events may be read over all the episodes, and
        // an event no set's environment declares is still refused.
        let other = SETS.replace(
            "options = { keys = \"2x\", chests = \"1-3\", size = \"13\" }",
            "env = \"absent-supervisor\"",
        );
        let read = |event: &str| {
            other.replace(
                "  \"eval.train.mean.performance >= 0.9\",",
                &format!(
                    "  \"eval.train.mean.performance >= 0.9\",\n  \"eval.max.events.{event} <= 3\","
                ),
            )
        };
        // (`big`'s own condition on surplus_keys is refused: absent-supervisor has none.)
        let about = |event: &str| {
            let d = diagnostics(&read(event));
            let about: Vec<String> = d
                .iter()
                .map(|d| d.message.clone())
                .filter(|m| m.contains(&format!("eval.max.events.{event}")))
                .collect();
            about
        };
        assert_eq!(about("punishment_steps"), Vec::<String>::new());
        assert_eq!(about("surplus_keys"), Vec::<String>::new());
        let unknown = about("no_such_event");
        assert!(
            unknown.len() == 1 && unknown[0].contains("unknown event `no_such_event`"),
            "{unknown:#?}"
        );
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
