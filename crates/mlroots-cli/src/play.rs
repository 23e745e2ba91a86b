//! `mlroots play`: a terminal game. On a terminal it reads keys (arrows or action letters,
//! `q` to quit); with piped input it reads action letters from stdin and prints each frame,
//! so that a session can be scripted.

use std::io::{IsTerminal, Read, Write};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, read};
use crossterm::{cursor, execute, terminal};
use mlroots_env::{Action, Env, Step};

/// Arguments of `mlroots play`.
#[derive(clap::Args)]
pub struct Args {
    /// The environment id; see `mlroots envs`.
    env: String,
    /// An option KEY=VALUE (repeatable).
    #[arg(long = "opt", value_name = "KEY=VALUE")]
    opts: Vec<String>,
    /// The first episode's seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// One episode's running totals.
struct Game {
    env: Box<dyn Env>,
    obs: Vec<f32>,
    steps: u32,
    total: f64,
    last: Option<Step>,
    measures: &'static str,
}

impl Game {
    fn status(&self) -> String {
        let mut s = format!("{}\n{}", self.env.id(), self.env.render_ascii());
        s += &format!("step {}  reward so far {}", self.steps, self.total);
        if let Some(last) = &self.last {
            s += &format!("  last reward {}", last.reward);
            for (k, v) in last.info.extras.iter() {
                s += &format!("  {k}: {}", serde_json::to_string(&v).unwrap_or_default());
            }
        }
        s.push('\n');
        s
    }

    fn finished(&self) -> Option<String> {
        let last = self.last.as_ref().filter(|s| s.done())?;
        let reason = last.info.termination_reason.map(|r| r.as_str()).unwrap_or("?");
        let perf = self.env.hidden_metrics().performance;
        Some(format!(
            "episode over ({reason}) after {} steps: return {}, hidden performance {perf}\n\
             the hidden performance measured {}\n",
            self.steps, self.total, self.measures
        ))
    }

    fn act(&mut self, a: Action) -> anyhow::Result<()> {
        let s = self.env.step(a, &mut self.obs)?;
        self.steps += 1;
        self.total += s.reward;
        self.last = Some(s);
        Ok(())
    }
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let opts = crate::parse_opts(&args.opts)?;
    let info = mlroots_worlds::find(&args.env).map_err(crate::usage)?;
    let env = mlroots_worlds::make(&args.env, &opts).map_err(crate::usage)?;
    let mut game = Game {
        obs: vec![0.0; env.observation_space().flat_len()],
        env,
        steps: 0,
        total: 0.0,
        last: None,
        measures: info.measures,
    };
    game.env.reset(Some(args.seed), &mut game.obs);
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        interactive(&mut game)
    } else {
        scripted(&mut game)
    }
}

fn scripted(game: &mut Game) -> anyhow::Result<()> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    print!("{}", game.status());
    for c in input.chars().filter(|c| !c.is_whitespace()) {
        if c == 'q' {
            break;
        }
        let a = mlroots_worlds::parse_actions(game.env.as_ref(), &c.to_string())
            .map_err(crate::usage)?[0];
        game.act(a)?;
        print!("\n{}", game.status());
        if let Some(end) = game.finished() {
            print!("{end}");
            break;
        }
    }
    Ok(())
}

fn interactive(game: &mut Game) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    terminal::enable_raw_mode()?;
    execute!(out, terminal::EnterAlternateScreen, cursor::Hide)?;
    let result = interactive_loop(game, &mut out);
    execute!(out, cursor::Show, terminal::LeaveAlternateScreen)?;
    terminal::disable_raw_mode()?;
    if let Some(end) = game.finished() {
        print!("{end}");
    }
    result
}

fn draw(out: &mut impl Write, text: &str) -> anyhow::Result<()> {
    execute!(out, cursor::MoveTo(0, 0), terminal::Clear(terminal::ClearType::All))?;
    // Raw mode needs explicit carriage returns.
    write!(out, "{}", text.replace('\n', "\r\n"))?;
    out.flush()?;
    Ok(())
}

fn interactive_loop(game: &mut Game, out: &mut impl Write) -> anyhow::Result<()> {
    let letters: String = game.env.action_meanings().iter().map(|m| m.letter).collect();
    let help = format!("keys: arrows or {letters}; q quits\n");
    loop {
        let mut screen = game.status();
        match game.finished() {
            Some(end) => screen += &format!("{end}press r for a new episode, q to quit\n"),
            None => screen += &help,
        }
        draw(out, &screen)?;
        let Event::Key(KeyEvent { code, kind: KeyEventKind::Press, .. }) = read()? else {
            continue;
        };
        let letter = match code {
            KeyCode::Up => 'u',
            KeyCode::Down => 'd',
            KeyCode::Left => 'l',
            KeyCode::Right => 'r',
            KeyCode::Esc | KeyCode::Char('q') => return Ok(()),
            KeyCode::Char(c) => c,
            _ => continue,
        };
        if game.finished().is_some() {
            if letter == 'r' {
                game.env.reset(None, &mut game.obs);
                game.steps = 0;
                game.total = 0.0;
                game.last = None;
            }
            continue;
        }
        if let Some(a) = game.env.action_meanings().iter().position(|m| m.letter == letter) {
            game.act(a as Action)?;
        }
    }
}
