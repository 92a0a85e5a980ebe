use clap::Parser;
use std::io::Write;

/// Many small strings (a million contacts) are made and freed fast.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    small_pages();
    let hooks = color_eyre::config::HookBuilder::default()
        .display_location_section(false)
        .display_env_section(false);
    if let Err(e) = hooks.install() {
        eprintln!("sop: {e}");
    }
    let cli = sop::cli::Cli::parse();
    if cli.prints_and_exits() {
        die_on_broken_pipe();
    }
    let code = match sop::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Not eprintln!: a closed standard error must not turn an error into a panic.
            let _ = writeln!(std::io::stderr(), "sop: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

/// Memory comes in pages of 4 KiB rather than 2 MiB: a merge of a million contacts
/// makes gigabytes of new structures, and the kernel clears each huge page whole
/// when it is first touched, which took about three times the system time (`sop
/// ucm merge` of 1,000,000 contacts: 4 to 7 s of system time with huge pages, 1.5
/// to 2.9 s without). Children (the server) inherit it. `MIMALLOC_ALLOW_THP=1` in the
/// environment leaves huge pages to the allocator.
fn small_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        let _ = nix::sys::prctl::set_thp_disable(true);
    }
}

/// `sop jobs list | head` ends quietly when `head` stops reading, as Unix tools do,
/// instead of failing on the broken pipe. Only for verbs that print and exit: the
/// server and the shell keep ignoring SIGPIPE and handle write errors themselves.
#[allow(unsafe_code)]
fn die_on_broken_pipe() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: called at the start of main, before any thread is started; the
    // default action installs no handler code.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}
