//! Feeds arbitrary bytes to the LDAP server's framing, decoding and request handling,
//! exactly as a connection does, over a small phone book.
#![no_main]

use ldap3_proto::LdapCodec;
use libfuzzer_sys::fuzz_target;
use sop::config::Config;
use sop::contacts::{Contact, Phone, PhoneKind};
use sop::directory::{Directory, Generation, ServedContact};
use sop::ldap::frame::{self, Frame};
use sop::ldap::policy::Policy;
use sop::ldap::session::{self, After, Session};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

fn fixture() -> &'static (Arc<Directory>, Policy) {
    static FIXTURE: OnceLock<(Arc<Directory>, Policy)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let config = Config::defaults();
        let contacts = ["Ada Lovelace", "Alan Turing", "Jürgen Müller", "Élodie Dubois"]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let (given, sur) = name.split_once(' ').unwrap_or((name, ""));
                ServedContact {
                    uid: format!("int-{i}"),
                    source: "internal".to_string(),
                    contact: Contact {
                        id: i.to_string(),
                        given_name: given.to_string(),
                        surname: sur.to_string(),
                        phones: vec![Phone {
                            kind: PhoneKind::Work,
                            number: format!("+49 30 123{i}"),
                        }],
                        ..Contact::default()
                    },
                }
            })
            .collect();
        let generation = Generation { number: 1, created: 0, contacts };
        let dir = Directory::build(&generation, &config.ldap.base_dn, &config.matching);
        (Arc::new(dir), Policy::new(&config, None))
    })
}

fuzz_target!(|data: &[u8]| {
    let (dir, policy) = fixture();
    let mut session = Session::new(false, 7);
    let mut codec = LdapCodec::new(Some(65536), None);
    let mut rest = data;
    loop {
        match frame::frame(rest, 65536) {
            Frame::Complete(len) => {
                let reply =
                    session::respond(&mut session, &rest[..len], &mut codec, dir, policy, Instant::now());
                if reply.after != After::Continue {
                    return;
                }
                rest = &rest[len..];
            }
            Frame::Incomplete | Frame::TooLarge(_) | Frame::Garbage => return,
        }
    }
});
