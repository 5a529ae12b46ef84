//! The one `counterweight` binary: parse arguments, install tracing, run a command, map errors
//! to exit codes.
//!
//! Exit codes: 0 success (also when stdout is closed early, as by `| head`), 1 any error
//! (printed as one line), 2 usage error (clap).

use std::process::ExitCode;

use clap::Parser;
use counterweight_cli::Cli;

/// mimalloc instead of the system allocator: training, execution and the node allocate many
/// short-lived buffers, and glibc malloc/free took about a fifth of `fl simulate`'s CPU.
/// Built without transparent huge pages (`no_thp`): with them, every page mimalloc purges and
/// reuses came back as a fresh 2 MiB huge page the kernel had to zero, about an eighth of a
/// loaded validator's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    counterweight_cli::init_tracing(&cli.global);
    let shell = cli.global.shell();
    let printed = counterweight_cli::run(cli)
        .and_then(|output| shell.print(&output).map_err(anyhow::Error::from));
    match printed {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            // The one place the binary reports an error: a line on stderr.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
