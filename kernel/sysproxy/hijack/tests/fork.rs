//! A program that forks (the seeds' prefork): Python accepts a connection
//! on a remote socket, forks, and the child answers on the socket its
//! parent accepted, as a preforking server's children do; the connection
//! ends only when both have closed it, and the parent serves on.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;

use common::{Served, background, connect_when_listening, finish, hijacked, require};

/// The server: accept, fork, the child answers and exits, the parent
/// closes its copy first and then accepts once more.
const SCRIPT: &str = r#"
import os, socket, sys
listener = socket.socket()
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen()
conn, _ = listener.accept()
pid = os.fork()
if pid == 0:
    listener.close()
    assert conn.recv(4) == b"ping"
    conn.sendall(b"pong from the child")
    conn.close()
    os._exit(0)
conn.close()
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
again, _ = listener.accept()
again.sendall(b"the parent")
again.close()
print("ok")
"#;

#[test]
fn a_forked_child_answers_on_the_connection_its_parent_accepted() {
    require("python3", "python3");
    let served = Served::lo0("prefork");
    let client = served.client();
    let mut python = hijacked(&served, "python3");
    python
        .args(["-c", SCRIPT, "7300"])
        .env("ANYKERNEL_HIJACK_TRACE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let server = python.spawn().expect("python starts");
    let talk = background(move || {
        let mut first = connect_when_listening(&client, 7300);
        first.write_all(b"ping").expect("pings");
        let mut answer = Vec::new();
        first.read_to_end(&mut answer).expect("reads to the end");
        let mut second = connect_when_listening(&client, 7300);
        let mut parent = Vec::new();
        second.read_to_end(&mut parent).expect("reads to the end");
        (answer, parent)
    });
    let output = finish(server, 30, "python");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "python failed:\n{said}");
    assert_eq!(output.stdout, b"ok\n");
    let (answer, parent) = talk.wait(10, "the client");
    assert_eq!(answer, b"pong from the child");
    assert_eq!(parent, b"the parent");
}
