//! Serves the platform with the real challenge catalogue, for the browser tests until
//! `mlroots serve` loads it: `cargo run -p mlroots-server --example web_site -- ADDR DB [CHALLENGES]`.
//! The evaluation secret is random per run (evaluation seeds change at every start).

use std::sync::Arc;

use mlroots_server::{ChallengeCatalogue, Config, serve, start};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: web_site ADDR DATABASE [CHALLENGES-DIR]";
    let addr = args.next().ok_or(usage)?.parse()?;
    let db = args.next().ok_or(usage)?;
    let root = args.next().unwrap_or_else(|| "challenges".into());
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("no OS randomness: {e}"))?;
    let cat = ChallengeCatalogue::load(std::path::Path::new(&root), secret.to_vec())?;
    let state = start(Config::new(&db), Arc::new(cat)).await?;
    serve(addr, state).await?;
    Ok(())
}
