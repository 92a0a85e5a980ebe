//! The module catalog (`assets/modules.toml`) and what installing or removing a
//! module takes: its dependencies in order, the node's baseline, the modules that
//! would be left without one of theirs. Pure: the caller writes the result to the
//! node's config (`[modules] installed`).

use semver::{Version, VersionReq};
use serde::Deserialize;
use std::collections::BTreeSet;

/// The catalog shipped with this build.
pub const CATALOG: &str = include_str!("../../assets/modules.toml");

/// What a fresh node has installed: the recommended profile.
pub const RECOMMENDED: [&str; 2] = ["ucm", "ldap-server"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub id: String,
    pub name: String,
    pub version: Version,
    /// The lowest node baseline it runs on.
    pub baseline: u32,
    pub depends: Vec<Dependency>,
    /// The application server's bundles this module runs.
    pub bundles: Vec<String>,
    pub description: String,
    pub release_notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub id: String,
    pub req: VersionReq,
}

impl std::fmt::Display for Dependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.req == VersionReq::STAR {
            write!(f, "{}", self.id)
        } else {
            write!(f, "{} {}", self.id, self.req)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    #[error("no module {id}; the modules are: {known}")]
    Unknown { id: String, known: String },
    #[error(
        "{name} needs baseline {needed}, and this node is on baseline {baseline} ([node] baseline in config.toml)"
    )]
    Baseline {
        name: String,
        needed: u32,
        baseline: u32,
    },
    #[error("{name} needs {dependency}, and the catalog has {found}")]
    Version {
        name: String,
        dependency: String,
        found: String,
    },
    #[error("{name} is needed by {by}: remove {by} first")]
    Required { name: String, by: String },
    #[error("the module catalog is invalid: {0}")]
    Catalog(String),
}

/// The modules this build knows.
#[derive(Debug, Clone)]
pub struct Catalog {
    modules: Vec<Module>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    module: Vec<RawModule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    id: String,
    name: String,
    version: String,
    baseline: u32,
    depends: Vec<String>,
    bundles: Vec<String>,
    description: String,
    release_notes: String,
}

impl Catalog {
    /// The catalog shipped with this build (checked by a test).
    pub fn builtin() -> Catalog {
        Catalog::parse(CATALOG).unwrap_or(Catalog {
            modules: Vec::new(),
        })
    }

    pub fn parse(text: &str) -> Result<Catalog, ModuleError> {
        let bad = |e: &dyn std::fmt::Display| ModuleError::Catalog(e.to_string());
        let raw: RawCatalog = toml::from_str(text).map_err(|e| bad(&e))?;
        let mut modules = Vec::new();
        for m in raw.module {
            let depends = m
                .depends
                .iter()
                .map(|d| {
                    let (id, req) = d.split_once(' ').unwrap_or((d, "*"));
                    Ok(Dependency {
                        id: id.to_string(),
                        req: VersionReq::parse(req.trim())
                            .map_err(|e| bad(&format!("{}: {d}: {e}", m.id)))?,
                    })
                })
                .collect::<Result<_, ModuleError>>()?;
            modules.push(Module {
                version: Version::parse(&m.version).map_err(|e| bad(&format!("{}: {e}", m.id)))?,
                id: m.id,
                name: m.name,
                baseline: m.baseline,
                depends,
                bundles: m.bundles,
                // One paragraph: its line breaks are spaces wherever it is shown.
                description: m
                    .description
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                release_notes: m.release_notes.trim().to_string(),
            });
        }
        let catalog = Catalog { modules };
        for m in &catalog.modules {
            for d in &m.depends {
                if catalog.find(&d.id).is_none() {
                    return Err(bad(&format!("{} depends on unknown {}", m.id, d.id)));
                }
            }
        }
        Ok(catalog)
    }

    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    pub fn find(&self, id: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.id == id)
    }

    pub fn get(&self, id: &str) -> Result<&Module, ModuleError> {
        self.find(id).ok_or_else(|| ModuleError::Unknown {
            id: id.to_string(),
            known: self
                .modules
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// The modules to install, dependencies first, for `id` to be installed: empty
    /// when it already is.
    pub fn plan_install(
        &self,
        installed: &BTreeSet<String>,
        id: &str,
        baseline: u32,
    ) -> Result<Vec<&Module>, ModuleError> {
        let mut plan = Vec::new();
        self.visit(installed, id, baseline, &mut Vec::new(), &mut plan)?;
        Ok(plan)
    }

    fn visit<'a>(
        &'a self,
        installed: &BTreeSet<String>,
        id: &str,
        baseline: u32,
        path: &mut Vec<String>,
        plan: &mut Vec<&'a Module>,
    ) -> Result<(), ModuleError> {
        let m = self.get(id)?;
        if installed.contains(id) || plan.iter().any(|p| p.id == id) {
            return Ok(());
        }
        if path.iter().any(|p| p == id) {
            return Err(ModuleError::Catalog(format!(
                "dependency cycle: {} -> {id}",
                path.join(" -> ")
            )));
        }
        if m.baseline > baseline {
            return Err(ModuleError::Baseline {
                name: m.name.clone(),
                needed: m.baseline,
                baseline,
            });
        }
        path.push(id.to_string());
        for d in &m.depends {
            let dep = self.get(&d.id)?;
            if !d.req.matches(&dep.version) {
                return Err(ModuleError::Version {
                    name: m.name.clone(),
                    dependency: format!("{} {}", dep.name, d.req),
                    found: format!("{} {}", dep.name, dep.version),
                });
            }
            self.visit(installed, &d.id, baseline, path, plan)?;
        }
        path.pop();
        plan.push(m);
        Ok(())
    }

    /// Installed modules that depend on `id`.
    pub fn dependents<'a>(&'a self, installed: &BTreeSet<String>, id: &str) -> Vec<&'a Module> {
        self.modules
            .iter()
            .filter(|m| installed.contains(&m.id) && m.depends.iter().any(|d| d.id == id))
            .collect()
    }

    /// Refuses to remove a module another installed module needs.
    pub fn check_remove(&self, installed: &BTreeSet<String>, id: &str) -> Result<(), ModuleError> {
        let m = self.get(id)?;
        let by = self.dependents(installed, id);
        if by.is_empty() {
            return Ok(());
        }
        Err(ModuleError::Required {
            name: m.name.clone(),
            by: by
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// What is wrong with a set of installed modules (as an admin may have written
    /// it in config.toml): an unknown id, a missing dependency, a baseline too low.
    pub fn check_installed(
        &self,
        installed: &BTreeSet<String>,
        baseline: u32,
    ) -> Result<(), String> {
        for id in installed {
            let m = self.get(id).map_err(|e| e.to_string())?;
            if m.baseline > baseline {
                return Err(format!(
                    "{} needs baseline {}, and [node] baseline is {baseline}",
                    m.name, m.baseline
                ));
            }
            if let Some(d) = m.depends.iter().find(|d| !installed.contains(&d.id)) {
                return Err(format!(
                    "{} needs {} installed too (sop module install {id} installs it)",
                    m.name, d.id
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn builtin_catalog_is_valid_and_has_the_products_modules() {
        let c = Catalog::parse(CATALOG).unwrap();
        let ldap = c.get("ldap-server").unwrap();
        assert_eq!(ldap.name, "LDAP Server");
        assert_eq!(ldap.version, Version::new(1, 4, 0));
        assert_eq!(ldap.baseline, 2);
        assert_eq!(ldap.depends[0].id, "ucm");
        for id in ["ucm", "directory-sources", "cluster"] {
            assert!(c.get(id).unwrap().depends.iter().all(|d| d.id != id));
        }
        assert!(c.check_installed(&set(&RECOMMENDED), 2).is_ok());
        // Descriptions are one paragraph: a line break is a space.
        assert!(
            ldap.description
                .contains("name and number search as people type")
                && !ldap.description.contains('\n'),
            "{}",
            ldap.description
        );
    }

    #[test]
    fn install_brings_dependencies_first_and_nothing_twice() {
        let c = Catalog::builtin();
        let plan = c.plan_install(&set(&[]), "ldap-server", 2).unwrap();
        let ids: Vec<&str> = plan.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["ucm", "ldap-server"]);
        let plan = c.plan_install(&set(&["ucm"]), "ldap-server", 2).unwrap();
        assert_eq!(plan.len(), 1);
        assert!(
            c.plan_install(&set(&RECOMMENDED), "ldap-server", 2)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn install_on_a_low_baseline_says_why() {
        let c = Catalog::builtin();
        let e = c.plan_install(&set(&[]), "ldap-server", 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "LDAP Server needs baseline 2, and this node is on baseline 1 ([node] baseline in config.toml)"
        );
        assert!(matches!(
            c.plan_install(&set(&[]), "nope", 2),
            Err(ModuleError::Unknown { .. })
        ));
    }

    #[test]
    fn remove_is_refused_while_a_module_needs_it() {
        let c = Catalog::builtin();
        let e = c.check_remove(&set(&RECOMMENDED), "ucm").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Unified Communication Model is needed by LDAP Server: remove LDAP Server first"
        );
        assert!(c.check_remove(&set(&RECOMMENDED), "ldap-server").is_ok());
    }

    #[test]
    fn version_requirements_and_cycles_are_checked() {
        let text = r#"
[[module]]
id = "a"
name = "A"
version = "1.0.0"
baseline = 1
depends = ["b >= 2.0"]
bundles = []
description = ""
release_notes = ""
[[module]]
id = "b"
name = "B"
version = "1.5.0"
baseline = 1
depends = []
bundles = []
description = ""
release_notes = ""
"#;
        let c = Catalog::parse(text).unwrap();
        let e = c.plan_install(&set(&[]), "a", 2).unwrap_err();
        assert_eq!(
            e.to_string(),
            "A needs B >=2.0, and the catalog has B 1.5.0"
        );
        let cyclic = text.replace("depends = []", "depends = [\"a\"]");
        let c = Catalog::parse(&cyclic).unwrap();
        assert!(matches!(
            c.plan_install(&set(&[]), "a", 2),
            Err(ModuleError::Version { .. } | ModuleError::Catalog(_))
        ));
        let c = Catalog::parse(&cyclic.replace("b >= 2.0", "b")).unwrap();
        let e = c.plan_install(&set(&[]), "a", 2).unwrap_err();
        assert!(e.to_string().contains("cycle"), "{e}");
    }

    #[test]
    fn hand_written_installed_lists_are_checked() {
        let c = Catalog::builtin();
        let e = c.check_installed(&set(&["ldap-server"]), 2).unwrap_err();
        assert!(e.contains("needs ucm installed too"), "{e}");
        assert!(c.check_installed(&set(&["typo"]), 2).is_err());
        assert!(c.check_installed(&set(&RECOMMENDED), 1).is_err());
    }
}
