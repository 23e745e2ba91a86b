//! A throwaway PostgreSQL cluster: `initdb` into a temporary directory (as user `postgres`
//! when the tests run as root, since PostgreSQL refuses root), started on a free loopback
//! port, one database per check, stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

fn find_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("MLROOTS_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

impl Cluster {
    /// Starts a cluster, or returns `None` (loudly) when PostgreSQL is not installed. Under
    /// CI a missing PostgreSQL is a failure: `scripts/ci-deps.sh` installs it.
    pub fn start() -> Option<Cluster> {
        let Some(bin) = find_bin() else {
            let msg = "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: \
                       SKIPPING the PostgreSQL suite. Install them with scripts/ci-deps.sh \
                       (apt-get install postgresql).";
            if std::env::var_os("CI").is_some() {
                panic!("{msg} (CI is set, so this is a failure)");
            }
            eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = is_root();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(ok.success(), "chown to postgres failed");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let c = Cluster { bin, dir, port, as_postgres };
        let data = c.dir.path().join("data");
        c.run(
            "initdb",
            &["-D", p(&data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        );
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=200",
            c.dir.path().display()
        );
        let log = c.dir.path().join("log");
        c.run("pg_ctl", &["-D", p(&data), "-o", &opts, "-l", p(&log), "-w", "start"]);
        Some(c)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let out = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
        } else {
            Command::new(&exe).args(args).output()
        }
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
        assert!(
            out.status.success(),
            "{tool} failed: {}\n{}\nlog: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }

    /// Creates database `name` and returns its URL.
    pub fn database(&self, name: &str) -> String {
        use diesel::{Connection, PgConnection, RunQueryDsl};
        let base = format!("postgres://postgres@127.0.0.1:{}/", self.port);
        let mut c = PgConnection::establish(&format!("{base}postgres")).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c).unwrap();
        format!("{base}{name}")
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let exe = self.bin.join("pg_ctl");
        let args = ["-D", p(&data), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&exe).args(args).output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}
