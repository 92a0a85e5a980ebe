//! `sop init` and `sop config ...`.

use super::ConfigCommand;
use crate::config::{Config, TEMPLATE};
use crate::home::Home;
use color_eyre::eyre::Result;

pub fn init(home: &Home, bare: bool) -> Result<i32> {
    let created = crate::node::prepare_with(home, bare)?;
    if created && bare {
        println!(
            "created the node's home in {} with no module installed (sop module list)",
            home.root().display()
        );
    } else if created {
        println!("created the node's home in {}", home.root().display());
    } else {
        println!(
            "the node's home {} is ready (nothing changed)",
            home.root().display()
        );
    }
    println!("config: {}", home.config_file().display());
    Ok(0)
}

pub fn run(home: &Home, command: ConfigCommand) -> Result<i32> {
    match command {
        ConfigCommand::Path => println!("{}", home.config_file().display()),
        ConfigCommand::Template => print!("{TEMPLATE}"),
        ConfigCommand::Check => {
            let path = home.config_file();
            if !path.exists() {
                println!(
                    "{} does not exist yet: the defaults apply (sop init creates it)",
                    path.display()
                );
                Config::defaults();
                return Ok(0);
            }
            match Config::load(&path) {
                Ok(c) => {
                    let listen: Vec<String> = c.ldap.listen.iter().map(|a| a.to_string()).collect();
                    println!("{}: valid", path.display());
                    println!(
                        "  LDAP on {} with base DN {}",
                        listen.join(", "),
                        c.ldap.base_dn
                    );
                    let credentials = home.path(&c.ucm.credentials_file).exists();
                    for warning in crate::config::warnings(&c, credentials) {
                        eprintln!("warning: {warning}");
                    }
                }
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(1);
                }
            }
        }
    }
    Ok(0)
}
