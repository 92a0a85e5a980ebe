//! `sop cluster nodes|add|remove|push|status`, and the verbs a node runs when
//! another node asks over ssh: `receive` and `state`.

use super::runtime;
use crate::cluster::config::{NodeSpec, check_host, check_name};
use crate::cluster::push::{self, Event};
use crate::cluster::status::ClusterStatus;
use crate::cluster::{records, state};
use crate::config::{self, Config};
use crate::home::Home;
use clap::Subcommand;
use color_eyre::eyre::Result;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// The nodes this node pushes to, and the last push to each
    Nodes {
        #[arg(long)]
        json: bool,
    },
    /// Add a node (or change one's settings): how ssh reaches it and runs sop there
    Add {
        name: String,
        /// A name or address ssh connects to (a ~/.ssh/config alias works)
        host: String,
        #[arg(long)]
        port: Option<u16>,
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        identity_file: Option<String>,
        /// The sop binary on the node [default: sop]
        #[arg(long)]
        sop_path: Option<String>,
        /// The node's home [default: the node's own default]
        #[arg(long, value_name = "DIR")]
        remote_home: Option<String>,
        /// One more argument for ssh (repeatable): --ssh-option=-oProxyJump=bastion
        #[arg(long = "ssh-option", allow_hyphen_values = true)]
        ssh_options: Vec<String>,
    },
    /// Remove a node
    Remove { name: String },
    /// Push this node's imported contacts (external and directory sources) to nodes, several at once
    Push {
        /// The nodes (by name)
        nodes: Vec<String>,
        /// Every node
        #[arg(long, conflicts_with = "nodes")]
        all: bool,
        /// Only the nodes whose last push failed
        #[arg(long)]
        retry_failed: bool,
        #[arg(long)]
        json: bool,
    },
    /// Every node's state: reachable, version, server, contacts served, in sync or
    /// not, last push, LDAP answering
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Take a snapshot pushed by another node on standard input (push runs it over ssh)
    Receive,
    /// This node's state as JSON (status runs it over ssh)
    State,
}

pub fn run(home: &Home, command: ClusterCommand) -> Result<i32> {
    let Some(config) = super::config_of(home) else {
        return Ok(1);
    };
    if !config.modules.contains(crate::cluster::MODULE) {
        eprintln!(
            "Cluster Replication is not installed on {}: sop module install cluster",
            config.node.name
        );
        return Ok(1);
    }
    match command {
        ClusterCommand::Nodes { json } => nodes(home, &config, json),
        ClusterCommand::Add {
            name,
            host,
            port,
            user,
            identity_file,
            sop_path,
            remote_home,
            ssh_options,
        } => {
            let mut node = NodeSpec::new(&name, &host);
            node.port = port;
            node.user = user;
            node.identity_file = identity_file;
            node.sop_path = sop_path.unwrap_or(node.sop_path);
            node.home = remote_home;
            node.ssh_options = ssh_options;
            add(home, &node)
        }
        ClusterCommand::Remove { name } => remove(home, &config, &name),
        ClusterCommand::Push {
            nodes,
            all,
            retry_failed,
            json,
        } => push(home, &config, &nodes, all, retry_failed, json),
        ClusterCommand::Status { json } => status(home, &config, json),
        ClusterCommand::Receive => {
            let rt = runtime()?;
            let received = rt.block_on(crate::cluster::receive::receive(
                home,
                &config,
                std::io::stdin().lock(),
            ));
            match received {
                Ok(r) => {
                    println!("{}", serde_json::to_string(&r)?);
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("{e:#}");
                    Ok(1)
                }
            }
        }
        ClusterCommand::State => {
            let rt = runtime()?;
            let s = rt.block_on(state::local(home, &config));
            println!("{}", serde_json::to_string(&s)?);
            Ok(0)
        }
    }
}

fn nodes(home: &Home, config: &Config, json: bool) -> Result<i32> {
    let pushes = records::load(home);
    if json {
        let all: Vec<_> = config
            .cluster
            .nodes
            .iter()
            .map(|n| serde_json::json!({ "node": n, "last_push": pushes.get(&n.name) }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(0);
    }
    if config.cluster.nodes.is_empty() {
        println!("no node yet: sop cluster add NAME HOST");
        return Ok(0);
    }
    for n in &config.cluster.nodes {
        let port = n.port.map(|p| format!(":{p}")).unwrap_or_default();
        let home = match &n.home {
            Some(h) => format!("--home {h}"),
            None => "(the node's default home)".to_string(),
        };
        println!(
            "{:<16} {}{port}  {} {home}",
            n.name,
            n.destination(),
            n.sop_path
        );
        if let Some(p) = pushes.get(&n.name) {
            println!("{:<16} last push {}: {}", "", when(p.at), result(p));
        }
    }
    Ok(0)
}

fn when(at: u64) -> String {
    chrono::DateTime::from_timestamp(at as i64, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| "-".to_string())
}

fn result(p: &records::PushRecord) -> String {
    if p.ok {
        format!("ok, {}", p.message)
    } else {
        format!("FAILED, {}", p.message)
    }
}

fn add(home: &Home, node: &NodeSpec) -> Result<i32> {
    for (key, check) in [
        ("name", check_name(&node.name)),
        ("host", check_host(&node.host)),
    ] {
        if let Err(why) = check {
            eprintln!(
                "{key} {:?} is not accepted: expected {why}",
                node_field(node, key)
            );
            return Ok(1);
        }
    }
    let mut existed = false;
    let edited = config::edit(&home.config_file(), |doc| {
        let entries = node_tables(doc);
        let table = node_table(node);
        let same = |t: &Table| t.get("name").and_then(Item::as_str) == Some(node.name.as_str());
        let found = entries.iter().position(same);
        match found {
            Some(i) => {
                existed = true;
                if let Some(t) = entries.get_mut(i) {
                    *t = table;
                }
            }
            None => {
                entries.push(table);
            }
        }
    });
    match edited {
        Ok(_) => {
            let verb = if existed { "changed" } else { "added" };
            println!(
                "node {} {verb} in {}; check it with sop cluster status",
                node.name,
                home.config_file().display()
            );
            for warning in crate::cluster::config::local_command_warnings(node) {
                eprintln!("warning: {warning}");
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(1)
        }
    }
}

fn node_field<'a>(node: &'a NodeSpec, key: &str) -> &'a str {
    if key == "name" {
        &node.name
    } else {
        &node.host
    }
}

/// The `[[cluster.nodes]]` tables, made so when `nodes` is still `[]`.
fn node_tables(doc: &mut DocumentMut) -> &mut ArrayOfTables {
    let root = doc.as_table_mut();
    if !root.contains_key("cluster") {
        root.insert("cluster", Item::Table(Table::new()));
    }
    let cluster = &mut root["cluster"];
    if cluster
        .get("nodes")
        .and_then(Item::as_array_of_tables)
        .is_none()
    {
        cluster["nodes"] = Item::ArrayOfTables(ArrayOfTables::new());
    }
    match cluster["nodes"].as_array_of_tables_mut() {
        Some(a) => a,
        // Made just above.
        None => unreachable_nodes(),
    }
}

#[allow(clippy::panic)]
fn unreachable_nodes() -> ! {
    panic!("[[cluster.nodes]] was just made")
}

fn node_table(n: &NodeSpec) -> Table {
    let mut t = Table::new();
    t["name"] = value(&n.name);
    t["host"] = value(&n.host);
    if let Some(p) = n.port {
        t["port"] = value(i64::from(p));
    }
    if let Some(u) = &n.user {
        t["user"] = value(u);
    }
    if let Some(i) = &n.identity_file {
        t["identity_file"] = value(i);
    }
    if n.sop_path != "sop" {
        t["sop_path"] = value(&n.sop_path);
    }
    if let Some(h) = &n.home {
        t["home"] = value(h);
    }
    if !n.ssh_options.is_empty() {
        t["ssh_options"] = value(n.ssh_options.iter().collect::<toml_edit::Array>());
    }
    t
}

fn remove(home: &Home, config: &Config, name: &str) -> Result<i32> {
    if config.cluster.node(name).is_none() {
        eprintln!("no node named {name:?}; sop cluster nodes lists them");
        return Ok(1);
    }
    let edited = config::edit(&home.config_file(), |doc| {
        node_tables(doc).retain(|t| t.get("name").and_then(Item::as_str) != Some(name));
    });
    match edited {
        Ok(_) => {
            println!("node {name} removed from {}", home.config_file().display());
            Ok(0)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(1)
        }
    }
}

fn push(
    home: &Home,
    config: &Config,
    names: &[String],
    all: bool,
    retry_failed: bool,
    json: bool,
) -> Result<i32> {
    let nodes = match push::select(config, names, all, retry_failed, &records::load(home)) {
        Ok(n) => n,
        Err(why) => {
            eprintln!("{why}");
            return Ok(1);
        }
    };
    if nodes.is_empty() {
        println!("no push failed last time: nothing to retry");
        return Ok(0);
    }
    let rt = runtime()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcomes = rt.block_on(async {
        let printer = tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                if json {
                    continue;
                }
                match event {
                    Event::Started { node } => println!("{node}: pushing..."),
                    Event::Finished(o) => {
                        let secs = o.record.millis as f64 / 1000.0;
                        if o.record.ok {
                            println!("{}: ok in {secs:.1} s: {}", o.node, o.record.message);
                        } else {
                            println!("{}: FAILED after {secs:.1} s: {}", o.node, o.record.message);
                            if let Some(fix) = &o.record.fix {
                                println!("{}: to fix: {fix}", o.node);
                            }
                        }
                    }
                }
            }
        });
        let outcomes = push::push_and_record(home, config, nodes, Some(tx)).await;
        let _ = printer.await;
        outcomes
    });
    let outcomes = match outcomes {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e:#}");
            return Ok(1);
        }
    };
    let failed = outcomes.iter().filter(|o| !o.record.ok).count();
    if json {
        let all: Vec<_> = outcomes
            .iter()
            .map(|o| serde_json::json!({ "node": o.node, "result": o.record, "received": o.received }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else if let Some(first) = outcomes.first() {
        println!(
            "{} of {} nodes have {} contacts ({}){}",
            outcomes.len() - failed,
            outcomes.len(),
            first.record.count,
            &first.record.hash[..first.record.hash.len().min(12)],
            if failed > 0 {
                "; sop cluster push --retry-failed tries the others again"
            } else {
                ""
            }
        );
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

fn status(home: &Home, config: &Config, json: bool) -> Result<i32> {
    if config.cluster.nodes.is_empty() {
        eprintln!("no node in [[cluster.nodes]]: add one with sop cluster add NAME HOST");
        return Ok(1);
    }
    let rt = runtime()?;
    let s = rt.block_on(crate::cluster::status::status(
        home,
        config,
        &config.cluster.nodes,
    ));
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print_status(&s);
    }
    Ok(if s.nodes.iter().all(|n| n.reachable) {
        0
    } else {
        1
    })
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

fn print_status(s: &ClusterStatus) {
    match &s.external {
        Some(e) => println!(
            "{} (this node): {} imported contacts {} imported {} by {}",
            s.node,
            e.count,
            short(&e.hash),
            when(e.created),
            e.origin
        ),
        None => println!("{} (this node): no contacts imported", s.node),
    }
    for n in &s.nodes {
        println!();
        let Some(st) = &n.state else {
            println!(
                "{} ({}): UNREACHABLE: {}",
                n.name,
                n.host,
                n.error.as_deref().unwrap_or("")
            );
            if let Some(fix) = &n.fix {
                println!("  to fix: {fix}");
            }
            print_last_push(n.last_push.as_ref(), n.next_retry);
            continue;
        };
        println!(
            "{} ({}): {}, sop {}",
            n.name,
            n.host,
            n.sync.words().to_uppercase(),
            st.version
        );
        match (st.server_running, st.generation, st.contacts) {
            (true, Some(g), Some(c)) => {
                println!("  application server: running, generation {g}, {c} contacts served");
                if !st.phonebooks.is_empty() {
                    let books: Vec<String> = st
                        .phonebooks
                        .iter()
                        .map(|(name, n)| format!("{name} {n}"))
                        .collect();
                    println!("  phone books: {}", books.join(", "));
                }
            }
            (true, ..) => println!("  application server: running"),
            (false, ..) => println!("  application server: STOPPED (its phones see nothing)"),
        }
        match &st.external {
            Some(e) => println!(
                "  imported contacts: {} {} imported {} by {}",
                e.count,
                short(&e.hash),
                when(e.created),
                e.origin
            ),
            None => println!("  imported contacts: none"),
        }
        let ldap = if st.ldap.answered {
            "answers"
        } else {
            "NO ANSWER"
        };
        println!(
            "  LDAP {}: {ldap}: {}",
            st.ldap.address.as_deref().unwrap_or("-"),
            st.ldap.message
        );
        for p in &st.problems {
            println!("  problem: {p}");
        }
        print_last_push(n.last_push.as_ref(), n.next_retry);
    }
}

fn print_last_push(p: Option<&records::PushRecord>, next_retry: Option<u64>) {
    match p {
        Some(p) => println!("  last push {}: {}", when(p.at), result(p)),
        None => println!("  last push: never"),
    }
    if let Some(at) = next_retry {
        println!(
            "  next retry: {} (by the running application server)",
            when(at)
        );
    }
}
