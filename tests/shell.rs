//! The shell end to end: the real binary in `tmux`, driven with send-keys and read
//! with capture-pane, as a new admin would use it.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::Node;
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of its own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// A 100x30 terminal running an interactive bash.
    fn new(name: &str) -> Tmux {
        Tmux::sized(name, 100, 30)
    }

    /// A terminal of `width` x `height` running an interactive bash.
    fn sized(name: &str, width: u16, height: u16) -> Tmux {
        let t = Tmux {
            socket: format!("sop-test-{}-{name}", std::process::id()),
        };
        let (w, h) = (width.to_string(), height.to_string());
        t.run(&[
            "new-session",
            "-d",
            "-x",
            &w,
            "-y",
            &h,
            "-s",
            "main",
            "env PS1='$ ' bash --norc --noprofile",
        ]);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux must be installed");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Keys as tmux names them ("Enter", "Escape", "C-s"), one at a time, as typed.
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "main", k]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Keys sent in one write, as a terminal sends keys pressed in quick
    /// succession over a slow link.
    fn keys_together(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        self.run(&args);
        std::thread::sleep(Duration::from_millis(60));
    }

    fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "main", "-l", text]);
        std::thread::sleep(Duration::from_millis(60));
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-t", "main", "-p"])
    }

    /// Waits until the screen shows `what`; fails with the screen if it never does.
    fn wait_for(&self, what: &str) -> String {
        let started = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the screen never showed {what:?}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn alternate_screen(&self) -> bool {
        self.run(&["display", "-p", "-t", "main", "#{alternate_on}"])
            .trim()
            == "1"
    }

    /// The pid of the process running in the pane's shell (the `sop` shell).
    fn child_pid(&self) -> Option<i32> {
        let bash = self.run(&["display", "-p", "-t", "main", "#{pane_pid}"]);
        let out = Command::new("pgrep")
            .args(["-P", bash.trim()])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
    }

    /// Checks that the terminal is back in cooked mode with echo.
    fn assert_sane(&self) {
        assert!(!self.alternate_screen(), "still on the alternate screen");
        self.text(
            "clear; stty -a | tr ' ;' '\\n\\n' | grep -x -e '-\\?icanon' -e '-\\?echo'; echo END",
        );
        self.keys(&["Enter"]);
        let s = self.wait_for("END\n");
        let lines: Vec<&str> = s.lines().map(str::trim).collect();
        assert!(lines.contains(&"icanon") && lines.contains(&"echo"), "{s}");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn gone(pid: i32) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn open_shell(t: &Tmux, node: &Node) {
    t.text(&format!(
        "{} --home {}",
        env!("CARGO_BIN_EXE_sop"),
        node.home().display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("Main menu");
}

#[test]
fn a_new_admin_configures_ucm_starts_the_server_and_quits() {
    let node = Node::new(&[
        ("ucm.cron", "\"0 2 * * *\""),
        ("ucm.merge_cron", "\"0 3 * * *\""),
    ]);
    let t = Tmux::new("guide");
    open_shell(&t, &node);

    // Advanced > Module Configuration > Edit Unified Communication Model.
    t.keys(&["a", "Enter", "m", "Enter"]);
    t.wait_for("Module Configuration");
    t.keys(&["e", "Enter"]);
    t.wait_for("Advanced > Module Configuration > Edit Unified Communication Model");

    // A bad cron is refused with its reason, and nothing is written.
    let before = std::fs::read_to_string(node.config()).unwrap();
    t.keys(&["Tab", "C-u"]);
    t.text("0 25 ? * *");
    t.keys(&["C-s"]);
    let s = t.wait_for("not saved");
    assert!(s.contains("hour 25"), "{s}");
    assert_eq!(std::fs::read_to_string(node.config()).unwrap(), before);

    // The guide's values.
    t.keys(&["C-u"]);
    t.text("0 23 ? * *");
    t.keys(&["Tab", "Tab", "C-u"]);
    t.text("30 23 ? * *");
    t.keys(&["C-s"]);
    t.wait_for("saved in");
    let config = std::fs::read_to_string(node.config()).unwrap();
    assert!(config.contains("cron = \"0 23 ? * *\""), "{config}");
    assert!(config.contains("merge_cron = \"30 23 ? * *\""), "{config}");
    // The admin's comments are kept.
    let comments = |text: &str| {
        text.lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .count()
    };
    assert_eq!(comments(&config), comments(&before));

    // Subsystems > Application Server > Start.
    t.keys(&["Escape", "Escape", "Escape"]);
    t.wait_for("◆ Main menu");
    t.keys(&["s", "Enter", "Enter"]);
    t.wait_for("Subsystems > Application Server");
    t.keys(&["Enter"]);
    t.wait_for("application server started");
    let (ldif, code) = node.ldapsearch(&["-b", common::BASE, "(objectClass=*)", "cn"]);
    assert_eq!(code, 0, "{ldif}");
    assert!(common::values(&ldif, "cn").len() > 3, "{ldif}");

    // Contacts > Phone view: typed as on a Yealink, answered by the server.
    t.keys(&["Escape", "Escape"]);
    t.wait_for("◆ Main menu");
    t.keys(&["c", "Enter"]);
    t.wait_for("◆ Contacts");
    t.keys(&["p"]);
    t.wait_for("◆ Contacts > Phone view");
    t.text("and");
    t.wait_for("(|(cn=and*)(sn=and*)(givenName=and*))");
    t.wait_for("Åsa Andersson");
    t.keys(&["Escape", "Escape"]);
    t.wait_for("◆ Main menu");
    // From Contacts, Subsystems is the entry above.
    t.keys(&["Up", "Enter", "Enter"]);
    t.wait_for("Subsystems > Application Server");

    // Stop asks first.
    t.keys(&["Home", "Enter"]);
    t.wait_for("Stop the application server?");
    t.keys(&["y"]);
    t.wait_for("application server stopped");
    let (_, code) = node.ldapsearch(&["-b", common::BASE, "(cn=*)"]);
    assert_ne!(code, 0, "nothing answers once stopped");

    let pid = t.child_pid().expect("the shell runs");
    t.keys(&["q"]);
    assert!(gone(pid), "the shell did not exit");
    t.assert_sane();
}

#[test]
fn esc_presses_that_arrive_together_each_go_back_one_screen() {
    let node = Node::new(&[]);
    let t = Tmux::new("esc");
    open_shell(&t, &node);
    t.keys(&["a", "Enter", "m", "Enter", "e", "Enter"]);
    t.wait_for("Advanced > Module Configuration > Edit Unified Communication Model");
    t.keys_together(&["Escape", "Escape"]);
    t.wait_for("◆ Advanced\n");
    t.keys(&["m", "Enter", "e", "Enter"]);
    t.wait_for("Advanced > Module Configuration > Edit Unified Communication Model");
    t.keys_together(&["Escape", "Escape", "Escape"]);
    t.wait_for("◆ Main menu");
    // A cursor key right after an Esc, in the same write, is still that key.
    t.keys(&["s", "Enter"]);
    t.wait_for("◆ Subsystems");
    t.keys_together(&["Escape", "Down", "Enter"]);
    t.wait_for("◆ Contacts");
    t.keys(&["q"]);
    t.assert_sane();
}

/// Is `message` on `screen` whole, wherever its lines break?
fn whole(screen: &str, message: &str) -> bool {
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    words(screen).contains(&words(message))
}

#[test]
fn every_refusal_of_the_walkthrough_is_read_whole_at_80x24() {
    let node = Node::new(&[]);
    let t = Tmux::sized("narrow", 80, 24);
    open_shell(&t, &node);

    // Advanced > Module Configuration: removing what LDAP Server needs.
    t.keys(&["a", "Enter", "m", "Enter"]);
    t.wait_for("Module Configuration");
    t.keys(&["Down", "r"]);
    let s = t.wait_for("cannot remove");
    let refusal = "cannot remove Unified Communication Model: Unified Communication Model is \
                   needed by LDAP Server: remove LDAP Server first";
    assert!(whole(&s, refusal), "{refusal:?} is not whole in:\n{s}");

    // Edit Unified Communication Model: each field refused with its whole reason.
    t.keys(&["e", "Enter"]);
    t.wait_for("Edit Unified Communication Model");
    let cases = [
        ("URL", "ftp://pbx.example.com/contacts.csv", 0),
        ("Cron", "0 23 * *", 1),
        ("Priority", "twenty", 2),
    ];
    for (field, typed, tabs) in cases {
        for _ in 0..tabs {
            t.keys(&["Tab"]);
        }
        t.keys(&["C-u"]);
        t.text(typed);
        t.keys(&["C-s"]);
        let reason = match field {
            "URL" => sop::validate::check_url(typed).unwrap_err(),
            "Cron" => sop::validate::check_cron(typed).unwrap_err(),
            _ => format!("{typed:?}: a whole number from 0 to 1000"),
        };
        let message = format!("Settings not saved: {field}: {reason}");
        let s = t.wait_for(&format!("not saved: {field}"));
        // The URL's and the cron's reasons are longer than a line.
        assert!(field == "Priority" || message.len() > 80, "{message}");
        assert!(whole(&s, &message), "{message:?} is not whole in:\n{s}");
        // Put the field back as it was, and come back to the first field.
        t.keys(&["C-u"]);
        let fine = match field {
            "Cron" => "0 23 ? * *",
            "Priority" => "20",
            _ => "",
        };
        t.text(fine);
        for _ in 0..(4 - tabs) % 4 {
            t.keys(&["Tab"]);
        }
    }
    let pid = t.child_pid().expect("the shell runs");
    t.keys(&["Escape", "Escape", "Escape", "q"]);
    assert!(gone(pid), "the shell did not exit");
}

#[test]
fn an_admin_adds_a_directory_source_and_removes_it_in_the_shell() {
    let node = Node::new(&[]);
    node.sop(&["module", "install", "directory-sources"])
        .success();
    let t = Tmux::new("sources");
    open_shell(&t, &node);
    t.keys(&["a", "Enter", "d", "Enter"]);
    t.wait_for("No directory source yet");

    t.keys(&["a"]);
    t.wait_for("New source");
    t.text("hr");
    t.keys(&["Tab"]);
    t.text("127.0.0.1:3389");
    t.keys(&["Tab"]);
    t.text("ou=people,dc=hr");
    t.keys(&["C-s"]);
    t.wait_for("hr added");
    let config = std::fs::read_to_string(node.config()).unwrap();
    assert!(config.contains("name = \"hr\""), "{config}");
    assert!(
        config.contains("uri = \"ldap://127.0.0.1:3389\""),
        "{config}"
    );
    assert!(config.contains("base_dn = \"ou=people,dc=hr\""), "{config}");
    node.sop(&["config", "check"]).success();

    // What a sync left behind goes with the source.
    let seen = node.home().join("data/sources/dir-hr.seen");
    std::fs::create_dir_all(seen.parent().unwrap()).unwrap();
    std::fs::write(&seen, "").unwrap();
    t.keys(&["Escape"]);
    t.wait_for("◆ Advanced > Directory Sources");
    t.keys(&["r"]);
    t.wait_for("Remove hr (ldap://127.0.0.1:3389)");
    t.keys(&["y"]);
    t.wait_for("hr removed");
    let config = std::fs::read_to_string(node.config()).unwrap();
    assert!(!config.contains("name = \"hr\""), "{config}");
    assert!(!seen.exists());
    node.sop(&["config", "check"]).success();
    t.keys(&["q"]);
    t.assert_sane();
}

#[test]
fn sighup_and_a_closed_terminal_leave_no_process_and_a_sane_terminal() {
    let node = Node::new(&[]);
    let t = Tmux::new("hup");
    open_shell(&t, &node);
    t.keys(&["c", "Enter"]);
    t.wait_for("◆ Contacts");
    let pid = t.child_pid().expect("the shell runs");
    Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(gone(pid), "SIGHUP left the shell running");
    t.assert_sane();

    // The SSH session drops: the pane and its terminal go away.
    open_shell(&t, &node);
    let pid = t.child_pid().expect("the shell runs");
    t.run(&["new-window", "-d"]);
    t.run(&["kill-pane", "-t", "main:0"]);
    assert!(gone(pid), "the shell outlived its terminal");
    let log = std::fs::read_to_string(node.home().join("log/shell.log")).unwrap();
    assert!(
        !log.contains("panic") && log.matches("shell closed").count() == 2,
        "{log}"
    );
}

#[test]
fn a_hung_server_is_shown_as_such_and_the_shell_stays_responsive() {
    let node = Node::new(&[]);
    // Something holds the control socket and never answers.
    let socket = node.home().join("run/sop.sock");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            keep.lock().unwrap().push(stream);
        }
    });

    let t = Tmux::new("hung");
    open_shell(&t, &node);
    let s = t.wait_for("not answering");
    assert!(s.contains("hung?"), "{s}");
    // Menus still answer at once while the server does not.
    t.keys(&["j", "Enter"]);
    t.wait_for("◆ Jobs");
    t.keys(&["Escape"]);
    t.wait_for("◆ Main menu");
    let pid = t.child_pid().expect("the shell runs");
    t.keys(&["q"]);
    assert!(gone(pid), "the shell did not exit");
    t.assert_sane();
}
