use clap::Parser;

/// Many small strings (a million contacts) are made and freed fast.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let hooks = color_eyre::config::HookBuilder::default()
        .display_location_section(false)
        .display_env_section(false);
    if let Err(e) = hooks.install() {
        eprintln!("sop: {e}");
    }
    let code = match sop::cli::run(sop::cli::Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sop: {e:#}");
            1
        }
    };
    std::process::exit(code);
}
