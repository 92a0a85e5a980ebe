//! The command line: every menu action of the shell has a verb here, so that
//! everything can be scripted and tested.

mod bench;
mod checklist;
mod cluster;
mod config;
mod contacts;
mod directory;
mod jobs;
mod modules;
mod phones;
mod server;
mod sources;
mod ucm;

use crate::home::Home;
use clap::{Parser, Subcommand};
use color_eyre::eyre::{Result, eyre};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "sop",
    version,
    about = "Admin shell and application server of a telephony node"
)]
pub struct Cli {
    /// The node's home: config, data, control socket and logs
    /// [default: /var/lib/sop when installed, else the per-user data directory]
    #[arg(long, global = true, env = "SOP_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Open the admin shell (also what `sop` alone does on a terminal)
    Shell,
    /// Create the node's home: config.toml from the template, the store, the sample phone book
    Init {
        /// Install no module (the recommended profile installs UCM and LDAP Server)
        #[arg(long)]
        bare: bool,
    },
    /// The setup checklist: the guide's steps, checked against this node, with the
    /// command that does each one left; exit code 1 while a step is to do
    Checklist {
        #[arg(long)]
        json: bool,
    },
    /// List, install or remove modules (Advanced > Module Configuration)
    #[command(subcommand)]
    Module(ModuleCommand),
    /// Check or locate the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The node's internal contacts
    #[command(subcommand)]
    Contacts(ContactsCommand),
    /// Unified Communication Model: external contacts, imports, merges, rollback
    #[command(subcommand)]
    Ucm(UcmCommand),
    /// The served directory: export exactly what phones get
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Job history: imports, merges, rollbacks
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Directory sources: contacts synchronised from LDAP and Active Directory
    #[command(subcommand)]
    Sources(sources::SourcesCommand),
    /// Run, start, stop the application server, or ask its status
    #[command(subcommand)]
    Server(ServerCommand),
    /// Desk phones: presets, the settings to give them, a lookup as they send it
    #[command(subcommand)]
    Phones(PhonesCommand),
    /// Cluster Replication: push imported contacts to the other nodes over SSH, and
    /// show each node's state
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Generate a test phone book, or load a server like phones do
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
pub enum ModuleCommand {
    /// The catalog: version, state, dependencies, baseline
    List {
        #[arg(long)]
        json: bool,
    },
    /// One module in full, with its release notes
    Info { name: String },
    /// Install a module and, first, the modules it depends on
    Install { name: String },
    /// Remove a module (refused while an installed module depends on it)
    Remove {
        name: String,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Print a generated phone book with international names and numbers (CSV, or LDIF)
    Phonebook {
        /// How many contacts
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// The same seed gives the same phone book
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print LDIF for another LDAP server, with entries under this base DN
        #[arg(long, value_name = "BASE_DN")]
        ldif: Option<String>,
        /// Print this format instead of CSV: csv, vcard, json, xml (Yealink)
        #[arg(long, value_parser = parse_format, conflicts_with = "ldif")]
        format: Option<crate::formats::Format>,
        /// Print the OpenLDAP schema the LDIF needs beside inetOrgPerson (ipPhone,
        /// otherTelephone) instead of a phone book
        #[arg(long, conflicts_with_all = ["ldif", "format"])]
        schema: bool,
    },
    /// Print the filters phones send, by class (shape, attribute, typed length,
    /// whether it finds entries), for the generated phone book of the same count
    /// and seed: one `class<TAB>filter` line each, for `bench load --filters`
    Filters {
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Filters per class
        #[arg(long, default_value_t = 6)]
        per_class: usize,
    },
    /// Search a server like phones do (2-4 typed characters, prefix and contains, on
    /// names and numbers) and print searches per second and latencies; with
    /// `--filters`, run each class of a `bench filters` file in turn and print each
    Load {
        /// The LDAP server, host:port
        #[arg(long, default_value = "127.0.0.1:389")]
        addr: String,
        #[arg(long, default_value = "dc=phonebook,dc=local")]
        base_dn: String,
        /// Connections searching at once
        #[arg(long, default_value_t = 8)]
        connections: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// The size limit phones send
        #[arg(long, default_value_t = 50)]
        size_limit: i32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also report this server process's CPU time per search and resident memory
        #[arg(long)]
        server_pid: Option<u32>,
        /// Classes of filters to run in turn (`sop bench filters`), instead of the mix
        #[arg(long, value_name = "FILE")]
        filters: Option<PathBuf>,
        /// With --filters: how long each class runs
        #[arg(long, default_value_t = 0.2)]
        class_seconds: f64,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum ContactsCommand {
    /// Import contacts from a file: CSV (header row of LDAP attribute names or
    /// aliases), vCard, LDIF, JSON or a phone book XML; the format is detected
    Import {
        file: PathBuf,
        /// Make the list the whole set of internal contacts: remove those it does
        /// not hold (held above [ucm] max_removal_percent unless --force)
        #[arg(long)]
        replace: bool,
        /// Apply a --replace that removes more than [ucm] max_removal_percent
        #[arg(long)]
        force: bool,
        /// The file's format, when its content and name do not say
        #[arg(long, value_parser = parse_format)]
        format: Option<crate::formats::Format>,
        /// Read a CSV column as a field, e.g. 'Telefon Zentrale=telephoneNumber'
        /// (repeatable; fields are LDAP attribute names, - leaves a column out)
        #[arg(long = "map", value_name = "COLUMN=FIELD")]
        map: Vec<String>,
    },
    /// Add one contact
    Add(NewContact),
    /// Change one internal contact: the fields given replace its own ("" empties
    /// a field; numbers of a kind given replace that kind's numbers)
    Edit {
        /// Its id (`sop contacts list`)
        id: String,
        #[command(flatten)]
        fields: NewContact,
    },
    /// List internal contacts
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Find contacts whose names, company or numbers contain TEXT
    Search {
        text: String,
        #[arg(long)]
        json: bool,
    },
    /// Print how many internal contacts there are
    Count,
    /// Remove contacts by id
    Remove {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Write internal contacts as CSV (to FILE, or standard output)
    Export { file: Option<PathBuf> },
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Write the published generation as served: LDIF as ldapsearch shows it, CSV
    /// that `sop contacts import` reads back, or a Yealink remote phone book
    Export {
        #[arg(long, value_enum, default_value = "ldif")]
        format: crate::export::Format,
        /// Write to FILE (atomically) instead of standard output
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct NewContact {
    /// Common name (repeatable; the first is the one shown) [default: derived
    /// from --display or --given and --surname]
    #[arg(long)]
    pub cn: Vec<String>,
    #[arg(long)]
    pub given: Option<String>,
    #[arg(long)]
    pub surname: Option<String>,
    /// Display name [default: "given surname"]
    #[arg(long)]
    pub display: Option<String>,
    #[arg(long)]
    pub company: Option<String>,
    #[arg(long)]
    pub department: Option<String>,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    /// Work number (repeatable)
    #[arg(long)]
    pub work: Vec<String>,
    #[arg(long)]
    pub mobile: Vec<String>,
    #[arg(long = "home-phone")]
    pub home_phone: Vec<String>,
    #[arg(long = "ip-phone")]
    pub ip_phone: Vec<String>,
    #[arg(long)]
    pub other: Vec<String>,
    #[arg(long)]
    pub fax: Vec<String>,
    #[arg(long)]
    pub pager: Vec<String>,
    /// A note on the contact, served as description
    #[arg(long)]
    pub description: Option<String>,
    /// Street address, one line
    #[arg(long)]
    pub street: Option<String>,
    /// City, served as l
    #[arg(long)]
    pub city: Option<String>,
    #[arg(long = "postal-code")]
    pub postal_code: Option<String>,
    /// State or province, served as st
    #[arg(long)]
    pub state: Option<String>,
    /// Country: a two-letter code is served as c, a name as co
    #[arg(long)]
    pub country: Option<String>,
    /// A JPEG photo (at most 65,535 bytes), served as jpegPhoto
    #[arg(long, value_name = "FILE")]
    pub photo: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UcmCommand {
    /// The settings (URL, crons, priority), their next runs, the last import and merge
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change settings; each value is checked and nothing is written if one is refused
    Set {
        /// URL of the external contacts ("" for none)
        #[arg(long)]
        url: Option<String>,
        /// When to import them, e.g. "0 23 ? * *" ("" for on demand only)
        #[arg(long)]
        cron: Option<String>,
        /// Priority of external contacts against internal ones (lower wins)
        #[arg(long)]
        priority: Option<u32>,
        /// When to merge, e.g. "30 23 ? * *"
        #[arg(long)]
        merge_cron: Option<String>,
        /// CA certificate (PEM) to trust for the URL ("" for the system's only)
        #[arg(long)]
        ca_file: Option<String>,
        /// A file holding user:password for the URL; copied to the node's secrets (0600)
        #[arg(long, conflicts_with = "no_credentials")]
        credentials_file: Option<PathBuf>,
        /// Forget the URL's credentials
        #[arg(long)]
        no_credentials: bool,
    },
    /// Import the external contacts now
    Import {
        /// Show what would change; apply nothing
        #[arg(long)]
        dry_run: bool,
        /// Apply even an import the guards hold (mass removal, no contact)
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
    /// Merge every source into a new generation and publish it (a running server
    /// merges and swaps to it without dropping a connection)
    Merge {
        /// Publish even when the imported contacts of a source that is served now
        /// are missing, or start an empty store where the store is missing
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
    /// Serve the previous generation again
    Rollback,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Imports, merges and rollbacks, newest first, with their counts
    List {
        /// How many
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Stop the running import (nothing it did is applied)
    Cancel,
    /// One job with the entries it skipped
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PhonesCommand {
    /// The phone models and the filters they send
    List {
        #[arg(long)]
        json: bool,
    },
    /// The settings to paste into a vendor's phones or provisioning file for this
    /// node (every vendor without one); notes go to stderr
    Setup {
        vendor: Option<String>,
        /// For the phones of one of the other phone books ([[phonebooks]] name)
        #[arg(long)]
        phonebook: Option<String>,
    },
    /// Type as on a phone: the filter it sends and what it shows, from the running server
    Lookup {
        /// yealink, snom, gigaset, polycom, grandstream or cisco
        vendor: String,
        /// What is typed (letters or digits), or the caller's number with --incoming
        text: String,
        /// Look the number up as for an incoming call (exact match)
        #[arg(long)]
        incoming: bool,
        #[arg(long)]
        json: bool,
    },
    /// List the phone book as a model that browses it shows it: sorted, one
    /// window at a time (Polycom: virtual list views)
    Browse {
        /// polycom (the presets that browse)
        vendor: String,
        /// Jump to the first name at or after this text, as typed on the phone
        text: Option<String>,
        /// Start at this place of the list instead (1 is the first entry)
        #[arg(long, conflicts_with = "text")]
        from: Option<usize>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate config.toml without starting anything
    Check,
    /// Print the path of config.toml
    Path,
    /// Print the commented template (the defaults)
    Template,
}

#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Run in the foreground (for systemd); stops on SIGTERM or Ctrl-C
    Run,
    /// Start detached; returns once the LDAP listener answers
    Start,
    /// Stop gracefully
    Stop,
    /// Stop, then start (new settings that need a restart: listeners, TLS); starts
    /// a server that is not running
    Restart,
    /// Sync bundles: start the bundles of newly installed modules, stop removed
    /// ones and apply changed settings, without a restart or dropping LDAP clients
    Sync,
    /// Say whether it runs, its pid, uptime, listeners, generation and contacts
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

impl Cli {
    /// Whether the command prints its result and exits (not the shell, not the
    /// application server in the foreground).
    pub fn prints_and_exits(&self) -> bool {
        !matches!(
            self.command,
            None | Some(Command::Shell) | Some(Command::Server(ServerCommand::Run))
        )
    }
}

/// Runs one command line. Returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    // A home named on the command line (or by SOP_HOME) must hold a node: a typo
    // there must not set up a new node beside the real one.
    let named = cli.home.is_some();
    let home = Home::resolve(cli.home)?;
    let Some(command) = cli.command else {
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
            eprintln!("sop: the shell needs a terminal; see `sop --help` for the commands");
            return Ok(2);
        }
        return shell(home, named);
    };
    let needs_node = !matches!(
        command,
        Command::Shell
            | Command::Init { .. }
            | Command::Bench(_)
            | Command::Config(ConfigCommand::Path | ConfigCommand::Template)
    );
    if named && needs_node && home.is_missing() {
        return Err(eyre!(no_node(&home)));
    }
    match command {
        Command::Shell => shell(home, named),
        Command::Init { bare } => config::init(&home, bare),
        Command::Module(c) => modules::run(&home, c),
        Command::Config(c) => config::run(&home, c),
        Command::Server(c) => server::run(&home, c),
        Command::Bench(c) => bench::run(c),
        Command::Contacts(c) => contacts::run(&home, c),
        Command::Ucm(c) => ucm::run(&home, c),
        Command::Directory(c) => directory::run(&home, c),
        Command::Jobs(c) => jobs::run(&home, c),
        Command::Sources(c) => sources::run(&home, c),
        Command::Phones(c) => phones::run(&home, c),
        Command::Cluster(c) => cluster::run(&home, c),
        Command::Checklist { json } => checklist::run(&home, json),
    }
}

fn no_node(home: &Home) -> String {
    format!(
        "no node at {dir}: run `sop --home {dir} init` to set one up there",
        dir = home.root().display()
    )
}

/// The shell; on a named home that holds no node, only once the admin says to set
/// one up there.
fn shell(home: Home, named: bool) -> Result<i32> {
    if named && home.is_missing() {
        use std::io::Write;
        print!(
            "There is no node at {}. Set up a new node there? [y/N] ",
            home.root().display()
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("{}", no_node(&home));
            return Ok(2);
        }
    }
    crate::tui::run(home)
}

/// The node's config, or None after printing why it does not load.
fn config_of(home: &Home) -> Option<crate::config::Config> {
    crate::config::Config::load(&home.config_file())
        .map_err(|e| eprintln!("{e}"))
        .ok()
}

/// A Tokio runtime for one command.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn parse_format(s: &str) -> Result<crate::formats::Format, String> {
    crate::formats::Format::ALL
        .into_iter()
        .find(|f| f.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| format!("{s:?} is not a format; accepted: csv, vcard, ldif, json, xml"))
}
