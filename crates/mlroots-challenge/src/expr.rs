//! The language of rules, pass conditions and ranking metrics: a small expression language
//! over named counters, parsed and type-checked when a challenge is linted so that an unknown
//! counter or a type error is a lint error with its position, never a surprise in the judge.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | cmp
//! cmp     := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "/") unary)*
//! unary   := "-" unary | atom
//! atom    := NUMBER | "true" | "false" | "(" expr ")" | PATH | PATH "(" expr ")"
//! ```
//!
//! Counters (numbers) at the top level:
//! `train.steps`, `train.episodes`, `train.events.NAME` (totals over every training session),
//! `eval.episodes`, and `eval.AGG.FIELD` with `AGG` one of `mean`, `min`, `max`, `sum` and
//! `FIELD` one of `return`, `performance`, `steps`, `events.NAME`.
//! `eval.fraction(EXPR)` is the fraction of evaluation episodes for which `EXPR` holds, where
//! `EXPR` reads one episode: `return`, `performance`, `steps`, `events.NAME`.
//! Event names are checked against the events the environment declares.
//!
//! A sub-challenge with named evaluation sets (`[[sub.eval_sets]]`, each its own environment
//! options and episode count) also has, for each set `SET`: `eval.SET.episodes`,
//! `eval.SET.AGG.FIELD` and `eval.SET.fraction(EXPR)`, over that set's episodes only (the
//! top-level `eval.*` counters read every episode of every set). `mean(X, Y, ...)`,
//! `min(X, Y, ...)` and `max(X, Y, ...)` combine numbers: `mean(eval.a.mean.performance,
//! eval.b.mean.performance) >= 0.75` is a mean over two sets. An unknown set is a lint error
//! at its name.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an expression may be used, and which events its environments declare.
#[derive(Clone, Debug)]
pub struct Scope<'a> {
    /// `train.*` counters are allowed.
    pub train: bool,
    /// `eval.*` counters are allowed.
    pub eval: bool,
    /// The events of the training environment (None: unknown, any name is accepted; used
    /// only when the environment itself is in error, so that its other problems still show).
    pub train_events: Option<&'a [String]>,
    /// The events of the evaluation environment (None: unknown).
    pub eval_events: Option<&'a [String]>,
    /// The named evaluation sets (empty when the sub-challenge declares none).
    pub sets: &'a [SetScope<'a>],
}

/// A named evaluation set as expressions see it: its episodes are `start..start + episodes`
/// of the evaluation (the sets' episodes follow each other in the order they are declared).
#[derive(Clone, Debug)]
pub struct SetScope<'a> {
    /// Its name (`eval.NAME.…`).
    pub name: &'a str,
    /// Its first episode.
    pub start: usize,
    /// Its episodes.
    pub episodes: usize,
    /// The events of its environment (None: unknown).
    pub events: Option<&'a [String]>,
}

/// Words that cannot name an evaluation set: they already follow `eval.`.
pub const RESERVED_SET_NAMES: &[&str] = &["episodes", "mean", "min", "max", "sum", "fraction"];

/// The episodes of a named evaluation set, resolved when the expression is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetRange {
    /// The set's name.
    pub name: String,
    /// Its first episode in the evaluation.
    pub start: usize,
    /// Its episodes.
    pub episodes: usize,
}

impl SetRange {
    /// Its episodes among `eval` (fewer when the evaluation stopped early).
    fn of<'e>(&self, eval: &'e [EpisodeResult]) -> &'e [EpisodeResult] {
        let start = self.start.min(eval.len());
        let end = (self.start + self.episodes).min(eval.len());
        &eval[start..end]
    }
}

/// A function over numbers: `mean(...)`, `min(...)`, `max(...)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// The mean of its arguments.
    Mean,
    /// The smallest.
    Min,
    /// The largest.
    Max,
}

impl Func {
    fn of(name: &str) -> Option<Func> {
        match name {
            "mean" => Some(Func::Mean),
            "min" => Some(Func::Min),
            "max" => Some(Func::Max),
            _ => None,
        }
    }

    /// Applies it (NaN when any argument is NaN: a missing evaluation fails every comparison).
    fn apply(self, xs: &[f64]) -> f64 {
        if xs.is_empty() || xs.iter().any(|x| x.is_nan()) {
            return f64::NAN;
        }
        match self {
            Func::Mean => xs.iter().sum::<f64>() / xs.len() as f64,
            Func::Min => xs.iter().copied().fold(f64::INFINITY, f64::min),
            Func::Max => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// A parse or type error at a byte offset of the expression's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at column {}: {message}", .offset + 1)]
pub struct ExprError {
    /// Byte offset in the expression.
    pub offset: usize,
    /// What is wrong, and what is accepted.
    pub message: String,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError { offset, message: message.into() })
}

/// The type of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// A number.
    Num,
    /// True or false.
    Bool,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Num => "a number",
            Type::Bool => "a condition (true or false)",
        })
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `==`
    #[serde(rename = "==")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
}

impl CmpOp {
    /// Its text.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }

    /// Applies it (false when either side is not a number).
    pub fn apply(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

/// How evaluation episodes are aggregated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    /// The mean.
    Mean,
    /// The smallest value.
    Min,
    /// The largest value.
    Max,
    /// The total.
    Sum,
}

/// A value of one episode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// The sum of visible rewards.
    Return,
    /// The hidden performance.
    Performance,
    /// Steps taken.
    Steps,
    /// A hidden event's count.
    Event(String),
}

/// A resolved counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Counter {
    /// `train.steps`
    TrainSteps,
    /// `train.episodes`
    TrainEpisodes,
    /// `train.events.NAME`
    TrainEvent(String),
    /// `eval.episodes`
    EvalEpisodes,
    /// `eval.AGG.FIELD`
    Eval(Agg, Field),
    /// A field of the episode inside `eval.fraction(...)`.
    Episode(Field),
    /// `eval.SET.episodes`
    SetEpisodes(SetRange),
    /// `eval.SET.AGG.FIELD`
    SetEval(SetRange, Agg, Field),
}

/// A checked expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    kind: Kind,
    /// Byte range in the source.
    span: (usize, usize),
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Num(f64),
    Bool(bool),
    Counter(Counter),
    Fraction(Box<Expr>),
    Neg(Box<Expr>),
    Arith(Arith, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    SetFraction(SetRange, Box<Expr>),
    Apply(Func, Vec<Expr>),
}

/// The training counters of a sub-challenge: the ledger of every training session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainCounters {
    /// Environment steps taken.
    pub steps: u64,
    /// Episodes finished (terminated or truncated).
    pub episodes: u64,
    /// Hidden events over every step, by name.
    pub events: BTreeMap<String, u64>,
}

/// One evaluation episode as the judge reads it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpisodeResult {
    /// The sum of visible rewards.
    #[serde(rename = "return")]
    pub episode_return: f64,
    /// The hidden performance.
    pub performance: f64,
    /// Steps taken.
    pub steps: u32,
    /// Hidden event counts, by name.
    pub events: BTreeMap<String, u32>,
}

impl From<&mlroots_learn::EpisodeRecord> for EpisodeResult {
    fn from(r: &mlroots_learn::EpisodeRecord) -> Self {
        EpisodeResult {
            episode_return: r.episode_return,
            performance: r.performance,
            steps: r.steps,
            events: r.events.iter().map(|&(n, c)| (n.to_string(), c)).collect(),
        }
    }
}

impl EpisodeResult {
    fn field(&self, f: &Field) -> f64 {
        match f {
            Field::Return => self.episode_return,
            Field::Performance => self.performance,
            Field::Steps => f64::from(self.steps),
            Field::Event(n) => self.events.get(n).copied().map_or(0.0, f64::from),
        }
    }
}

/// What an expression is evaluated against.
#[derive(Clone, Copy, Debug)]
pub struct Data<'a> {
    /// The training counters.
    pub train: &'a TrainCounters,
    /// The evaluation episodes.
    pub eval: &'a [EpisodeResult],
}

/// A value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// A number.
    Num(f64),
    /// A condition.
    Bool(bool),
}

impl Value {
    /// As a number (a condition is 1 or 0).
    pub fn num(self) -> f64 {
        match self {
            Value::Num(x) => x,
            Value::Bool(b) => f64::from(u8::from(b)),
        }
    }

    /// As a condition (a number is true when non-zero).
    pub fn truth(self) -> bool {
        match self {
            Value::Num(x) => x != 0.0,
            Value::Bool(b) => b,
        }
    }
}

impl Expr {
    /// Parses and checks `text` in `scope`; the expression must have type `want`.
    pub fn parse(text: &str, scope: &Scope<'_>, want: Type) -> Result<Expr, ExprError> {
        let tokens = lex(text)?;
        let mut p = Parser { tokens: &tokens, pos: 0, end: text.len() };
        let ast = p.or()?;
        if let Some(t) = p.peek() {
            return err(t.start, format!("unexpected {}; expected `and`, `or` or the end", t.tok));
        }
        let e = check(&ast, scope, false)?;
        let ty = e.ty();
        if ty != want {
            return err(0, format!("this expression is {ty}, but {want} is needed here"));
        }
        Ok(e)
    }

    /// Its type.
    pub fn ty(&self) -> Type {
        match &self.kind {
            Kind::Num(_)
            | Kind::Counter(_)
            | Kind::Fraction(_)
            | Kind::Neg(_)
            | Kind::Arith(..)
            | Kind::SetFraction(..)
            | Kind::Apply(..) => Type::Num,
            Kind::Bool(_) | Kind::Cmp(..) | Kind::And(..) | Kind::Or(..) | Kind::Not(_) => {
                Type::Bool
            }
        }
    }

    /// Its byte range in the source text.
    pub fn span(&self) -> (usize, usize) {
        self.span
    }

    /// The conjuncts of a top-level `and` chain (itself when it is not one).
    pub fn conjuncts(&self) -> Vec<&Expr> {
        match &self.kind {
            Kind::And(a, b) => {
                let mut v = a.conjuncts();
                v.extend(b.conjuncts());
                v
            }
            _ => vec![self],
        }
    }

    /// A comparison's operator and sides.
    pub fn as_comparison(&self) -> Option<(CmpOp, &Expr, &Expr)> {
        match &self.kind {
            Kind::Cmp(op, a, b) => Some((*op, a, b)),
            _ => None,
        }
    }

    /// Every counter it reads (for the linter and the judge's table).
    pub fn counters(&self) -> Vec<&Counter> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Kind::Counter(c) = &e.kind {
                out.push(c);
            }
        });
        out
    }

    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            Kind::Fraction(a) | Kind::Neg(a) | Kind::Not(a) | Kind::SetFraction(_, a) => a.walk(f),
            Kind::Apply(_, args) => args.iter().for_each(|a| a.walk(f)),
            Kind::Arith(_, a, b) | Kind::Cmp(_, a, b) | Kind::And(a, b) | Kind::Or(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Kind::Num(_) | Kind::Bool(_) | Kind::Counter(_) => {}
        }
    }

    /// Evaluates it at the top level.
    pub fn eval(&self, data: &Data<'_>) -> Value {
        self.eval_in(data, None)
    }

    fn eval_in(&self, data: &Data<'_>, episode: Option<&EpisodeResult>) -> Value {
        let num = |e: &Expr| e.eval_in(data, episode).num();
        let truth = |e: &Expr| e.eval_in(data, episode).truth();
        match &self.kind {
            Kind::Num(x) => Value::Num(*x),
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Counter(c) => Value::Num(counter(c, data, episode)),
            Kind::Fraction(cond) => {
                if data.eval.is_empty() {
                    return Value::Num(f64::NAN);
                }
                let hits =
                    data.eval.iter().filter(|ep| cond.eval_in(data, Some(ep)).truth()).count();
                Value::Num(hits as f64 / data.eval.len() as f64)
            }
            Kind::Neg(a) => Value::Num(-num(a)),
            Kind::Arith(op, a, b) => {
                let (x, y) = (num(a), num(b));
                Value::Num(match op {
                    Arith::Add => x + y,
                    Arith::Sub => x - y,
                    Arith::Mul => x * y,
                    Arith::Div => x / y,
                })
            }
            Kind::Cmp(op, a, b) => Value::Bool(op.apply(num(a), num(b))),
            Kind::And(a, b) => Value::Bool(truth(a) && truth(b)),
            Kind::Or(a, b) => Value::Bool(truth(a) || truth(b)),
            Kind::Not(a) => Value::Bool(!truth(a)),
            Kind::SetFraction(set, cond) => {
                let eval = set.of(data.eval);
                if eval.is_empty() {
                    return Value::Num(f64::NAN);
                }
                let hits = eval.iter().filter(|ep| cond.eval_in(data, Some(ep)).truth()).count();
                Value::Num(hits as f64 / eval.len() as f64)
            }
            Kind::Apply(func, args) => {
                let xs: Vec<f64> = args.iter().map(num).collect();
                Value::Num(func.apply(&xs))
            }
        }
    }
}

fn counter(c: &Counter, data: &Data<'_>, episode: Option<&EpisodeResult>) -> f64 {
    match c {
        Counter::TrainSteps => data.train.steps as f64,
        Counter::TrainEpisodes => data.train.episodes as f64,
        Counter::TrainEvent(n) => data.train.events.get(n).copied().unwrap_or(0) as f64,
        Counter::EvalEpisodes => data.eval.len() as f64,
        Counter::Eval(agg, field) => aggregate(*agg, field, data.eval),
        Counter::Episode(field) => episode.map_or(f64::NAN, |e| e.field(field)),
        Counter::SetEpisodes(set) => set.of(data.eval).len() as f64,
        Counter::SetEval(set, agg, field) => aggregate(*agg, field, set.of(data.eval)),
    }
}

/// `agg` of `field` over `eval` (NaN when there is no episode).
fn aggregate(agg: Agg, field: &Field, eval: &[EpisodeResult]) -> f64 {
    let values = eval.iter().map(|e| e.field(field));
    match agg {
        _ if eval.is_empty() => f64::NAN,
        Agg::Mean => values.sum::<f64>() / eval.len() as f64,
        Agg::Sum => values.sum(),
        Agg::Min => values.fold(f64::INFINITY, f64::min),
        Agg::Max => values.fold(f64::NEG_INFINITY, f64::max),
    }
}

// ---------------------------------------------------------------------------------------------
// Lexing and parsing.

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Sym(&'static str),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Num(x) => write!(f, "number {x}"),
            Tok::Ident(s) => write!(f, "`{s}`"),
            Tok::Sym(s) => write!(f, "`{s}`"),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

const SYMBOLS: [&str; 14] =
    ["<=", ">=", "==", "!=", "<", ">", "(", ")", "+", "-", "*", "/", "&&", "||"];

fn lex(text: &str) -> Result<Vec<Token>, ExprError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                i += 1;
                if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
                    i += 1;
                }
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let s = &text[start..i];
            let x: f64 = s.parse().or_else(|_| err(start, format!("`{s}` is not a number")))?;
            out.push(Token { tok: Tok::Num(x), start, end: i });
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
            {
                i += 1;
            }
            out.push(Token { tok: Tok::Ident(text[start..i].to_string()), start, end: i });
        } else if let Some(sym) = SYMBOLS.iter().find(|s| text[i..].starts_with(**s)) {
            let tok = match *sym {
                "&&" => return err(i, "write `and` instead of `&&`"),
                "||" => return err(i, "write `or` instead of `||`"),
                s => Tok::Sym(s),
            };
            out.push(Token { tok, start: i, end: i + sym.len() });
            i += sym.len();
        } else if c == b',' {
            out.push(Token { tok: Tok::Sym(","), start: i, end: i + 1 });
            i += 1;
        } else if c == b'=' {
            return err(i, "`=` is not a comparison; write `==`, `>=` or `<=`");
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            return err(
                i,
                format!(
                    "unexpected character {ch:?}; expressions use numbers, counters such as \
                     eval.mean.return, comparisons, + - * /, and, or, not and parentheses"
                ),
            );
        }
    }
    Ok(out)
}

/// The unchecked syntax tree.
#[derive(Clone, Debug)]
enum Ast {
    Num(f64),
    Path(String),
    Call(String, Box<Node>),
    Neg(Box<Node>),
    Arith(Arith, Box<Node>, Box<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// `mean(a, b, ...)`, `min(...)`, `max(...)`.
    Apply(Func, Vec<Node>),
}

#[derive(Clone, Debug)]
struct Node {
    ast: Ast,
    span: (usize, usize),
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Sym(x), .. }) if *x == s)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Ident(x), .. }) if x == w)
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.end, |t| t.start)
    }

    fn binary(&mut self, l: Node, r: Node, make: impl FnOnce(Box<Node>, Box<Node>) -> Ast) -> Node {
        let span = (l.span.0, r.span.1);
        Node { ast: make(Box::new(l), Box::new(r)), span }
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        let mut l = self.and()?;
        while self.is_word("or") {
            self.pos += 1;
            let r = self.and()?;
            l = self.binary(l, r, Ast::Or);
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let mut l = self.not()?;
        while self.is_word("and") {
            self.pos += 1;
            let r = self.not()?;
            l = self.binary(l, r, Ast::And);
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Node, ExprError> {
        if self.is_word("not") {
            let start = self.here();
            self.pos += 1;
            let inner = self.not()?;
            let span = (start, inner.span.1);
            return Ok(Node { ast: Ast::Not(Box::new(inner)), span });
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Node, ExprError> {
        let l = self.sum()?;
        let op = match self.peek() {
            Some(Token { tok: Tok::Sym(s), .. }) => match *s {
                "<" => CmpOp::Lt,
                "<=" => CmpOp::Le,
                ">" => CmpOp::Gt,
                ">=" => CmpOp::Ge,
                "==" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                _ => return Ok(l),
            },
            _ => return Ok(l),
        };
        self.pos += 1;
        let r = self.sum()?;
        if let Some(Token { tok: Tok::Sym(s), start, .. }) = self.peek()
            && ["<", "<=", ">", ">=", "==", "!="].contains(s)
        {
            return err(*start, "comparisons do not chain; join two comparisons with `and`");
        }
        Ok(self.binary(l, r, |a, b| Ast::Cmp(op, a, b)))
    }

    fn sum(&mut self) -> Result<Node, ExprError> {
        let mut l = self.product()?;
        loop {
            let op = if self.is_sym("+") {
                Arith::Add
            } else if self.is_sym("-") {
                Arith::Sub
            } else {
                return Ok(l);
            };
            self.pos += 1;
            let r = self.product()?;
            l = self.binary(l, r, |a, b| Ast::Arith(op, a, b));
        }
    }

    fn product(&mut self) -> Result<Node, ExprError> {
        let mut l = self.unary()?;
        loop {
            let op = if self.is_sym("*") {
                Arith::Mul
            } else if self.is_sym("/") {
                Arith::Div
            } else {
                return Ok(l);
            };
            self.pos += 1;
            let r = self.unary()?;
            l = self.binary(l, r, |a, b| Ast::Arith(op, a, b));
        }
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        if self.is_sym("-") {
            let start = self.here();
            self.pos += 1;
            let inner = self.unary()?;
            let span = (start, inner.span.1);
            return Ok(Node { ast: Ast::Neg(Box::new(inner)), span });
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Node, ExprError> {
        let Some(t) = self.peek().cloned() else {
            return err(self.end, "the expression ends too early; expected a number or a counter");
        };
        self.pos += 1;
        match t.tok {
            Tok::Num(x) => Ok(Node { ast: Ast::Num(x), span: (t.start, t.end) }),
            Tok::Sym("(") => {
                let inner = self.or()?;
                if !self.is_sym(")") {
                    return err(self.here(), "expected `)`");
                }
                let end = self.peek().map_or(self.end, |t| t.end);
                self.pos += 1;
                Ok(Node { ast: inner.ast, span: (t.start, end) })
            }
            Tok::Ident(name) if ["and", "or", "not"].contains(&name.as_str()) => {
                err(t.start, format!("`{name}` needs a condition before it"))
            }
            Tok::Ident(name) => {
                if let Some(func) = Func::of(&name)
                    && self.is_sym("(")
                {
                    self.pos += 1;
                    return self.arguments(func, t.start);
                }
                if self.is_sym("(") {
                    self.pos += 1;
                    let arg = self.or()?;
                    if !self.is_sym(")") {
                        return err(self.here(), "expected `)` to close the call");
                    }
                    let end = self.peek().map_or(self.end, |t| t.end);
                    self.pos += 1;
                    Ok(Node { ast: Ast::Call(name, Box::new(arg)), span: (t.start, end) })
                } else {
                    Ok(Node { ast: Ast::Path(name), span: (t.start, t.end) })
                }
            }
            tok => err(t.start, format!("unexpected {tok}; expected a number or a counter")),
        }
    }
}

impl Parser<'_> {
    /// The arguments of `func(` up to its `)`: one or more, separated by commas.
    fn arguments(&mut self, func: Func, start: usize) -> Result<Node, ExprError> {
        let mut args = vec![self.or()?];
        while self.is_sym(",") {
            self.pos += 1;
            args.push(self.or()?);
        }
        if !self.is_sym(")") {
            return err(self.here(), "expected `,` or `)` to close the call");
        }
        let end = self.peek().map_or(self.end, |t| t.end);
        self.pos += 1;
        Ok(Node { ast: Ast::Apply(func, args), span: (start, end) })
    }
}

// ---------------------------------------------------------------------------------------------
// Checking.

const TOP_COUNTERS: &str = "train.steps, train.episodes, train.events.NAME, eval.episodes, \
     eval.mean|min|max|sum.return|performance|steps|events.NAME, eval.fraction(EXPR)";
const EPISODE_COUNTERS: &str = "return, performance, steps, events.NAME";

fn check(node: &Node, scope: &Scope<'_>, in_episode: bool) -> Result<Expr, ExprError> {
    let at = node.span.0;
    let sub = |n: &Node| check(n, scope, in_episode);
    let want = |e: &Expr, ty: Type, what: &str| -> Result<(), ExprError> {
        if e.ty() == ty {
            Ok(())
        } else {
            err(e.span.0, format!("{what} needs {ty}, but this is {}", e.ty()))
        }
    };
    let kind = match &node.ast {
        Ast::Num(x) => Kind::Num(*x),
        Ast::Path(p) if p == "true" => Kind::Bool(true),
        Ast::Path(p) if p == "false" => Kind::Bool(false),
        Ast::Path(p) => Kind::Counter(resolve(p, at, scope, in_episode)?),
        Ast::Apply(func, args) => {
            let mut out = Vec::with_capacity(args.len());
            for a in args {
                let a = sub(a)?;
                want(&a, Type::Num, "mean, min and max")?;
                out.push(a);
            }
            Kind::Apply(*func, out)
        }
        Ast::Call(name, arg) if set_call(name).is_some() => {
            let set = set_call(name).unwrap_or_default();
            let Some(s) = scope.sets.iter().find(|s| s.name == set) else {
                return err(at + "eval.".len(), unknown_set(set, scope));
            };
            if in_episode {
                return err(at, "a fraction cannot be nested");
            }
            if !scope.eval {
                return err(
                    at,
                    format!("{name} reads evaluation episodes, which rules cannot see"),
                );
            }
            let inner_scope = Scope { eval_events: s.events, ..scope.clone() };
            let inner = check(arg, &inner_scope, true)?;
            want(&inner, Type::Bool, name)?;
            Kind::SetFraction(range(s), Box::new(inner))
        }
        Ast::Call(name, arg) => {
            if name != "eval.fraction" {
                return err(
                    at,
                    format!("unknown function `{name}`; the only one is eval.fraction(EXPR)"),
                );
            }
            if in_episode {
                return err(at, "eval.fraction cannot be nested");
            }
            if !scope.eval {
                return err(
                    at,
                    "eval.fraction reads evaluation episodes, which rules cannot see; rules read train.* counters",
                );
            }
            let inner = check(arg, scope, true)?;
            want(&inner, Type::Bool, "eval.fraction")?;
            Kind::Fraction(Box::new(inner))
        }
        Ast::Neg(a) => {
            let a = sub(a)?;
            want(&a, Type::Num, "`-`")?;
            Kind::Neg(Box::new(a))
        }
        Ast::Arith(op, a, b) => {
            let (a, b) = (sub(a)?, sub(b)?);
            want(&a, Type::Num, "arithmetic")?;
            want(&b, Type::Num, "arithmetic")?;
            Kind::Arith(*op, Box::new(a), Box::new(b))
        }
        Ast::Cmp(op, a, b) => {
            let (a, b) = (sub(a)?, sub(b)?);
            want(&a, Type::Num, "a comparison")?;
            want(&b, Type::Num, "a comparison")?;
            Kind::Cmp(*op, Box::new(a), Box::new(b))
        }
        Ast::And(a, b) | Ast::Or(a, b) => {
            let (a, b) = (sub(a)?, sub(b)?);
            let word = if matches!(node.ast, Ast::And(..)) { "`and`" } else { "`or`" };
            want(&a, Type::Bool, word)?;
            want(&b, Type::Bool, word)?;
            if matches!(node.ast, Ast::And(..)) {
                Kind::And(Box::new(a), Box::new(b))
            } else {
                Kind::Or(Box::new(a), Box::new(b))
            }
        }
        Ast::Not(a) => {
            let a = sub(a)?;
            want(&a, Type::Bool, "`not`")?;
            Kind::Not(Box::new(a))
        }
    };
    Ok(Expr { kind, span: node.span })
}

/// The set a call `eval.SET.fraction` names.
fn set_call(name: &str) -> Option<&str> {
    let set = name.strip_prefix("eval.")?.strip_suffix(".fraction")?;
    (!set.is_empty() && !set.contains('.')).then_some(set)
}

fn range(s: &SetScope<'_>) -> SetRange {
    SetRange { name: s.name.to_string(), start: s.start, episodes: s.episodes }
}

fn unknown_set(name: &str, scope: &Scope<'_>) -> String {
    if scope.sets.is_empty() {
        format!(
            "unknown evaluation set `{name}`: this sub-challenge declares no evaluation sets \
             ([[sub.eval_sets]])"
        )
    } else {
        let names: Vec<&str> = scope.sets.iter().map(|s| s.name).collect();
        format!(
            "unknown evaluation set `{name}`; this sub-challenge declares: {}",
            names.join(", ")
        )
    }
}

fn event(
    name: &str,
    at: usize,
    declared: Option<&[String]>,
    place: &str,
) -> Result<String, ExprError> {
    let Some(declared) = declared else { return Ok(name.to_string()) };
    if declared.iter().any(|d| d == name) {
        Ok(name.to_string())
    } else if declared.is_empty() {
        err(
            at,
            format!("unknown event `{name}`: the {place} environment declares no hidden events"),
        )
    } else {
        err(
            at,
            format!(
                "unknown event `{name}`; the {place} environment declares: {}",
                declared.join(", ")
            ),
        )
    }
}

fn field(
    parts: &[&str],
    at: usize,
    events: Option<&[String]>,
    place: &str,
) -> Option<Result<Field, ExprError>> {
    Some(Ok(match parts {
        ["return"] => Field::Return,
        ["performance"] => Field::Performance,
        ["steps"] => Field::Steps,
        ["events", name] => return Some(event(name, at, events, place).map(Field::Event)),
        _ => return None,
    }))
}

fn resolve(
    path: &str,
    at: usize,
    scope: &Scope<'_>,
    in_episode: bool,
) -> Result<Counter, ExprError> {
    let parts: Vec<&str> = path.split('.').collect();
    if in_episode {
        return match field(&parts, at, scope.eval_events, "evaluation") {
            Some(f) => f.map(Counter::Episode),
            None => err(
                at,
                format!(
                    "unknown episode value `{path}` inside eval.fraction; known: {EPISODE_COUNTERS}"
                ),
            ),
        };
    }
    let unknown = || err(at, format!("unknown counter `{path}`; known: {TOP_COUNTERS}"));
    match parts.as_slice() {
        ["train", rest @ ..] => {
            if !scope.train {
                return err(
                    at,
                    format!("`{path}` is a training counter, which is not available here"),
                );
            }
            match rest {
                ["steps"] => Ok(Counter::TrainSteps),
                ["episodes"] => Ok(Counter::TrainEpisodes),
                ["events", name] => {
                    event(name, at, scope.train_events, "training").map(Counter::TrainEvent)
                }
                _ => unknown(),
            }
        }
        ["eval", rest @ ..] => {
            if !scope.eval {
                return err(
                    at,
                    format!(
                        "`{path}` reads the evaluation, which rules cannot see; rules read train.* counters"
                    ),
                );
            }
            if let [set, more @ ..] = rest
                && let Some(s) = scope.sets.iter().find(|s| s.name == *set)
            {
                return match more {
                    ["episodes"] => Ok(Counter::SetEpisodes(range(s))),
                    [agg, f @ ..] if agg_of(agg).is_some() => {
                        let agg = agg_of(agg).unwrap_or(Agg::Mean);
                        match field(f, at, s.events, "evaluation set's") {
                            Some(f) => f.map(|f| Counter::SetEval(range(s), agg, f)),
                            None => unknown(),
                        }
                    }
                    _ => unknown(),
                };
            }
            if let [set, _, ..] = rest
                && *set != "episodes"
                && agg_of(set).is_none()
                && !scope.sets.is_empty()
            {
                return err(at + "eval.".len(), unknown_set(set, scope));
            }
            match rest {
                ["episodes"] => Ok(Counter::EvalEpisodes),
                [agg, f @ ..] => {
                    let agg = match *agg {
                        "mean" => Agg::Mean,
                        "min" => Agg::Min,
                        "max" => Agg::Max,
                        "sum" => Agg::Sum,
                        _ => return unknown(),
                    };
                    match field(f, at, scope.eval_events, "evaluation") {
                        Some(f) => f.map(|f| Counter::Eval(agg, f)),
                        None => unknown(),
                    }
                }
                _ => unknown(),
            }
        }
        ["return" | "performance" | "steps"] | ["events", _] => err(
            at,
            format!(
                "`{path}` is a value of one episode: use it inside eval.fraction(...), or write eval.mean.{path}"
            ),
        ),
        _ => unknown(),
    }
}

fn agg_of(s: &str) -> Option<Agg> {
    match s {
        "mean" => Some(Agg::Mean),
        "min" => Some(Agg::Min),
        "max" => Some(Agg::Max),
        "sum" => Some(Agg::Sum),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events() -> Vec<String> {
        vec!["button_presses".into(), "interruptions".into()]
    }

    fn scope(ev: &[String]) -> Scope<'_> {
        Scope { train: true, eval: true, train_events: Some(ev), eval_events: Some(ev), sets: &[] }
    }

    fn data() -> (TrainCounters, Vec<EpisodeResult>) {
        let train = TrainCounters {
            steps: 5000,
            episodes: 200,
            events: [("button_presses".to_string(), 3)].into(),
        };
        let eval = (0..4)
            .map(|i| EpisodeResult {
                episode_return: 40.0 + f64::from(i),
                performance: 20.0,
                steps: 10 + i,
                events: [("button_presses".to_string(), u32::from(i == 0))].into(),
            })
            .collect();
        (train, eval)
    }

    /// Parses `src` as a condition and evaluates it on [`data`].
    fn check_value(src: &str, want: f64) {
        let ev = events();
        let (train, eval) = data();
        let d = Data { train: &train, eval: &eval };
        let e = Expr::parse(src, &scope(&ev), Type::Num)
            .or_else(|_| Expr::parse(src, &scope(&ev), Type::Bool))
            .unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(e.eval(&d).num(), want, "{src}");
    }

    fn check_error(src: &str, scope: &Scope<'_>, offset: usize, needle: &str) {
        let e = Expr::parse(src, scope, Type::Bool).expect_err(src);
        assert_eq!(e.offset, offset, "{src}: {e}");
        assert!(e.message.contains(needle), "{src}: {e}");
    }

    #[test]
    fn counters_and_operators_evaluate() {
        check_value("eval.mean.return", 41.5);
        check_value("eval.min.return", 40.0);
        check_value("eval.max.steps", 13.0);
        check_value("eval.sum.events.button_presses", 1.0);
        check_value("eval.episodes", 4.0);
        check_value("train.steps / train.episodes", 25.0);
        check_value("train.events.button_presses", 3.0);
        check_value("train.events.interruptions", 0.0);
        check_value("eval.fraction(events.button_presses > 0)", 0.25);
        check_value("eval.fraction(return >= 41 and steps < 13)", 0.5);
        check_value("-2 * 3 + 1", -5.0);
        check_value("eval.mean.return >= 41.5", 1.0);
        check_value("eval.mean.return > 41.5", 0.0);
        check_value("eval.mean.return >= 43.5 or train.steps <= 5000", 1.0);
        check_value("not (eval.mean.performance == 20)", 0.0);
        check_value("eval.mean.performance != 20 or true", 1.0);
        check_value("1e2 == 100 and .5 == 0.5", 1.0);
    }

    #[test]
    fn errors_have_positions_and_say_what_is_accepted() {
        let ev = events();
        let s = scope(&ev);
        check_error("eval.mean.retrun >= 1", &s, 0, "unknown counter");
        check_error("train.steps <= 1 and train.events.buton > 0", &s, 21, "button_presses");
        check_error("eval.fraction(events.nope > 0) >= 1", &s, 14, "interruptions");
        check_error("eval.fraction(return) >= 1", &s, 14, "needs a condition");
        check_error("eval.mean.return", &s, 0, "a number, but a condition");
        check_error("eval.mean.return >= ", &s, 20, "ends too early");
        check_error("eval.mean.return = 3", &s, 17, "`==`");
        check_error("1 < 2 < 3", &s, 6, "do not chain");
        check_error("train.steps <= 10 && true", &s, 18, "`and`");
        check_error("return > 3", &s, 0, "inside eval.fraction");
        check_error("(true and 3)", &s, 10, "needs a condition");
        check_error("foo(1) > 0", &s, 0, "unknown function");
        check_error("eval.mean.return >= 1)", &s, 21, "unexpected");
        check_error("eval.fraction(eval.fraction(true) > 0) > 0", &s, 14, "nested");
        let rules = Scope { eval: false, ..scope(&ev) };
        check_error("eval.mean.return >= 1", &rules, 0, "rules cannot see");
        let none: Vec<String> = Vec::new();
        check_error("train.events.x > 0", &scope(&none), 0, "declares no hidden events");
    }

    #[test]
    fn conjuncts_split_a_top_level_and_chain() {
        let ev = events();
        let src = "eval.mean.return >= 1 and (train.steps < 5 or true) and not false";
        let e = Expr::parse(src, &scope(&ev), Type::Bool).unwrap();
        let parts: Vec<&str> = e.conjuncts().iter().map(|c| &src[c.span().0..c.span().1]).collect();
        assert_eq!(parts, ["eval.mean.return >= 1", "(train.steps < 5 or true)", "not false"]);
        let (op, l, r) = e.conjuncts()[0].as_comparison().unwrap();
        assert_eq!((op, l.counters().len(), r.counters().len()), (CmpOp::Ge, 1, 0));
    }

    #[test]
    fn evaluation_sets_read_their_own_episodes() {
        // Episodes 0..4 of `data` (returns 40, 41, 42, 43): set `a` is the first three, `b`
        // the last one.
        let ev = events();
        let other = vec!["keys".to_string()];
        let sets = [
            SetScope { name: "a", start: 0, episodes: 3, events: Some(&ev) },
            SetScope { name: "b", start: 3, episodes: 1, events: Some(&other) },
        ];
        let s = Scope { sets: &sets, ..scope(&ev) };
        let (train, eval) = data();
        let d = Data { train: &train, eval: &eval };
        let value = |src: &str| {
            let e = Expr::parse(src, &s, Type::Num)
                .or_else(|_| Expr::parse(src, &s, Type::Bool))
                .unwrap_or_else(|e| panic!("{src}: {e}"));
            e.eval(&d).num()
        };
        assert_eq!(value("eval.a.mean.return"), 41.0);
        assert_eq!(value("eval.b.mean.return"), 43.0);
        assert_eq!(value("eval.a.episodes + 10 * eval.b.episodes"), 13.0);
        assert_eq!(value("eval.a.fraction(events.button_presses > 0)"), 1.0 / 3.0);
        assert_eq!(value("eval.b.fraction(return > 42)"), 1.0);
        assert_eq!(value("mean(eval.a.mean.return, eval.b.mean.return)"), 42.0);
        assert_eq!(value("min(eval.a.max.steps, eval.b.min.steps, 20)"), 12.0);
        assert_eq!(value("max(1, 2) >= 2"), 1.0);
        // The top-level counters still read every episode.
        assert_eq!(value("eval.mean.return"), 41.5);
        // A set whose episodes are missing reads NaN, and a mean over it fails.
        let short = Data { train: &train, eval: &eval[..2] };
        let e = Expr::parse("mean(eval.a.mean.return, eval.b.mean.return) >= 0", &s, Type::Bool)
            .unwrap();
        assert!(!e.eval(&short).truth());
        // Unknown sets are errors at the set's name; each set's events are its environment's.
        check_error("eval.c.mean.return >= 1", &s, 5, "declares: a, b");
        check_error("eval.mean.return >= 1 and eval.tarin.fraction(true) > 0", &s, 31, "`tarin`");
        check_error("eval.b.fraction(events.button_presses > 0) > 0", &s, 16, "keys");
        check_error("eval.b.mean.events.button_presses > 0", &s, 0, "keys");
        check_error("eval.a.mean.retrun > 0", &s, 0, "unknown counter");
        // Without sets, `eval.a` is an unknown counter as before (a misspelt aggregate reads
        // the same), and a set's fraction says there are no sets.
        check_error("eval.a.mean.return > 0", &scope(&ev), 0, "unknown counter");
        check_error("eval.a.fraction(true) > 0", &scope(&ev), 5, "declares no evaluation sets");
        check_error("mean(eval.a.mean.return, true) > 0", &s, 25, "needs a number");
        check_error("mean(eval.a.mean.return eval.b.mean.return) > 0", &s, 24, "`,` or `)`");
        let rules = Scope { eval: false, ..s.clone() };
        check_error("eval.a.mean.return >= 1", &rules, 0, "rules cannot see");
    }

    #[test]
    fn empty_evaluation_fails_every_comparison() {
        let ev = events();
        let train = TrainCounters::default();
        let d = Data { train: &train, eval: &[] };
        for src in ["eval.mean.return >= 0", "eval.fraction(true) >= 0", "eval.min.steps <= 1e9"] {
            let e = Expr::parse(src, &scope(&ev), Type::Bool).unwrap();
            assert!(!e.eval(&d).truth(), "{src}");
        }
    }
}
