//! Rebuilds the crate when a migration changes: `embed_migrations!` (db.rs) reads the SQL
//! files at compile time, but cargo does not know it does, so an edited migration was
//! otherwise left out of the binary until some Rust file changed.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
