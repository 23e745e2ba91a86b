//! Rules, pass conditions and budgets in plain words for the challenge page, next to the
//! expression as written (which stays the reference: the judge reads that).

use mlroots_challenge::spec::Budgets;

fn field(f: &str) -> String {
    match f {
        "return" => "the return (sum of visible rewards)".into(),
        "performance" => "the hidden performance".into(),
        "steps" => "the number of steps".into(),
        _ => match f.strip_prefix("events.") {
            Some(e) => format!("the count of hidden event \u{201c}{}\u{201d}", e.replace('_', " ")),
            None => f.to_string(),
        },
    }
}

fn path(p: &str) -> String {
    if let Some(rest) = p.strip_prefix("train.") {
        return match rest {
            "steps" => "training steps".into(),
            "episodes" => "training episodes".into(),
            _ => match rest.strip_prefix("events.") {
                Some(e) => {
                    format!("hidden event \u{201c}{}\u{201d} during training", e.replace('_', " "))
                }
                None => p.into(),
            },
        };
    }
    if let Some(rest) = p.strip_prefix("eval.") {
        if let Some(words) = set_path(rest) {
            return words;
        }
        if rest == "episodes" {
            return "evaluation episodes".into();
        }
        if let Some((agg, f)) = rest.split_once('.') {
            let agg = match agg {
                "mean" => "the mean over evaluation episodes of",
                "min" => "the lowest over evaluation episodes of",
                "max" => "the highest over evaluation episodes of",
                "sum" => "the total over evaluation episodes of",
                _ => return p.into(),
            };
            return format!("{agg} {}", field(f));
        }
    }
    match p {
        "return" | "performance" | "steps" => field(p),
        _ if p.starts_with("events.") => field(p),
        _ => p.into(),
    }
}

/// `SET.episodes` or `SET.AGG.FIELD` of a named evaluation set (`eval.` removed), in words.
fn set_path(rest: &str) -> Option<String> {
    let (set, more) = rest.split_once('.')?;
    if ["mean", "min", "max", "sum"].contains(&set) {
        return None;
    }
    if more == "episodes" {
        return Some(format!("episodes of evaluation set \u{201c}{set}\u{201d}"));
    }
    let (agg, f) = more.split_once('.')?;
    let agg = match agg {
        "mean" => "the mean",
        "min" => "the lowest",
        "max" => "the highest",
        "sum" => "the total",
        _ => return None,
    };
    Some(format!("{agg} over evaluation set \u{201c}{set}\u{201d} of {}", field(f)))
}

fn op(o: &str) -> &'static str {
    match o {
        "<=" => "is at most",
        ">=" => "is at least",
        "<" => "is below",
        ">" => "is above",
        "==" => "equals",
        "!=" => "differs from",
        "and" => "and",
        "or" => "or",
        "not" => "not",
        _ => "",
    }
}

/// A condition in words: each counter named, each operator said
/// (`eval.min.return >= 41` → "the lowest over evaluation episodes of the return ... is at
/// least 41"). `eval.fraction(X)` reads "the fraction of evaluation episodes where X".
pub fn condition(text: &str) -> String {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("eval.fraction(") {
            out.push("the fraction of evaluation episodes where (".to_string());
            rest = r;
            continue;
        }
        if let Some((set, r)) = rest
            .strip_prefix("eval.")
            .and_then(|r| r.split_once(".fraction("))
            .filter(|(set, _)| !set.is_empty() && !set.contains(['.', ' ']))
        {
            out.push(format!(
                "the fraction of episodes of evaluation set \u{201c}{set}\u{201d} where ("
            ));
            rest = r;
            continue;
        }
        if let Some((f, r)) = ["mean(", "min(", "max("]
            .iter()
            .find_map(|f| rest.strip_prefix(f).map(|r| (f.trim_end_matches('('), r)))
        {
            let word = match f {
                "mean" => "the mean of",
                "min" => "the least of",
                _ => "the greatest of",
            };
            out.push(format!("{word} ("));
            rest = r;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            rest = rest.trim_start();
            continue;
        }
        let len = if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            rest.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '.'))
                .unwrap_or(rest.len())
        } else if "<>=!".contains(c) {
            rest.find(|ch: char| !"<>=!".contains(ch)).unwrap_or(rest.len())
        } else {
            c.len_utf8()
        };
        let tok = &rest[..len];
        rest = &rest[len..];
        let w = op(tok);
        out.push(if !w.is_empty() {
            w.to_string()
        } else if tok.parse::<f64>().is_ok() || tok.len() == 1 {
            tok.to_string()
        } else {
            path(tok)
        });
    }
    out.join(" ").replace("( ", "(").replace(" )", ")").replace(" ,", ",")
}

/// The budgets in words.
pub fn budgets(b: &Budgets) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = b.train_steps {
        out.push(format!("at most {s} training steps"));
    }
    if let Some(e) = b.train_episodes {
        out.push(format!("at most {e} training episodes"));
    }
    out.push(format!("evaluated over {} episodes on hidden seeds", b.eval_episodes));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_as_words() {
        assert_eq!(
            condition("eval.min.return >= 41"),
            "the lowest over evaluation episodes of the return (sum of visible rewards) is at least 41"
        );
        assert_eq!(
            condition("eval.fraction(performance < return) >= 0.2"),
            "the fraction of evaluation episodes where (the hidden performance is below the return \
             (sum of visible rewards)) is at least 0.2"
        );
        assert_eq!(
            condition("train.events.punished == 0"),
            "hidden event \u{201c}punished\u{201d} during training equals 0"
        );
        assert_eq!(condition("train.episodes <= 5000"), "training episodes is at most 5000");
        assert_eq!(
            condition("mean(eval.a.mean.performance, eval.b.episodes) >= 0.75"),
            "the mean of (the mean over evaluation set \u{201c}a\u{201d} of the hidden performance, \
             episodes of evaluation set \u{201c}b\u{201d}) is at least 0.75"
        );
        assert_eq!(
            condition("eval.test.fraction(steps > 3) <= 0.5"),
            "the fraction of episodes of evaluation set \u{201c}test\u{201d} where (the number of \
             steps is above 3) is at most 0.5"
        );
    }

    #[test]
    fn budgets_read_as_words() {
        let b = Budgets { train_steps: None, train_episodes: Some(5000), eval_episodes: 40 };
        assert_eq!(
            budgets(&b),
            vec!["at most 5000 training episodes", "evaluated over 40 episodes on hidden seeds"]
        );
    }
}
