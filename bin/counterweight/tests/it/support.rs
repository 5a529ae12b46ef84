//! What several binary tests share: the binary's path and a devnet process they talk to.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The `counterweight` binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_counterweight");

/// A devnet process, killed when dropped.
pub(crate) struct Devnet {
    child: Child,
    /// The devnet's RPC address.
    pub(crate) rpc: String,
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Devnet {
    /// Starts a one-validator devnet with two funded accounts in `home`.
    pub(crate) fn start(home: &Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["devnet", "--accounts", "2", "--rpc-listen", "127.0.0.1:0"])
            .args(["--p2p-listen", "127.0.0.1:0"])
            .arg("--home")
            .arg(home)
            .env("COUNTERWEIGHT_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(home.join("devnet.log")).expect("log file"))
            .spawn()
            .expect("start the devnet");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("rpc: ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let rpc = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let log = std::fs::read_to_string(home.join("devnet.log")).unwrap_or_default();
                panic!("the devnet did not print its RPC address within 60 s; log:\n{log}")
            });
        Self { child, rpc }
    }

    /// The binary run with `args` against this devnet, with `home` as its home directory
    /// (`keys` works offline and takes no node address).
    pub(crate) fn command(&self, home: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.args(args).env("COUNTERWEIGHT_HOME", home);
        if args.first() != Some(&"keys") {
            command.args(["--rpc", self.rpc.as_str()]);
        }
        command
    }

    /// Runs [`Self::command`] to completion.
    pub(crate) fn cli(&self, home: &Path, args: &[&str]) -> Output {
        self.command(home, args).output().expect("run the binary")
    }
}
