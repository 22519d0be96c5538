//! Sockets in process contexts: one descriptor table for sockets and other
//! objects, private to its process, closed when the process ends.

mod common;

use std::sync::{Arc, mpsc};
use std::time::Duration;

use common::{Bus, Node, connect, listener, nodes_on_bus};
use kernel::Context;
use kernel::base::descriptor::Descriptor;
use kernel::net::{Errno, Fd, Net, PollEvents, PollFd, SocketOption, SocketType};

const PORT: u16 = 7400;
const DEADLINE_NS: u64 = 5_000_000_000;

/// An object of another faction (a file, say).
#[derive(Debug)]
struct Other;

impl Descriptor for Other {
    fn kind(&self) -> &'static str {
        "other"
    }
}

/// Runs `f` in `process` on this thread.
fn run_in<R>(
    node: &Node,
    process: &Arc<kernel::base::Process>,
    f: impl FnOnce(&Context<'_>, &Net) -> R,
) -> R {
    let binding = node.kernel.bind_thread_in(process).expect("binding");
    let context = binding.enter();
    f(&context, &node.net)
}

/// Accepts one connection on `listener`, says so on `accepted`, and reads
/// until it ends: the bytes read and how the stream ended (`Ok(())`: end
/// of file).
fn drain(
    context: &Context<'_>,
    net: &Net,
    listener: Fd,
    accepted: mpsc::Sender<()>,
) -> (Vec<u8>, Result<(), Errno>) {
    let (fd, _) = net.accept(context, listener).expect("accept");
    accepted.send(()).expect("the test waits");
    let mut bytes = Vec::new();
    let mut buffer = [0; 64];
    let end = loop {
        let mut poll = [PollFd::new(fd, PollEvents::READABLE)];
        let ready = net.poll(context, &mut poll, Some(DEADLINE_NS));
        assert_eq!(ready, Ok(1), "the stream ends within the deadline");
        match net.read(context, fd, &mut buffer) {
            Ok(0) => break Ok(()),
            Ok(count) => bytes.extend_from_slice(&buffer[..count]),
            Err(error) => break Err(error),
        }
    };
    net.close(context, fd).expect("close");
    (bytes, end)
}

#[test]
fn sockets_and_other_objects_share_one_numbering_per_process() {
    let bus = Bus::new("process-numbering");
    let node = &nodes_on_bus(&bus, 1, "", "")[0];
    let process = node.kernel.new_process();
    run_in(node, &process, |context, net| {
        let other = context.process().open_descriptor(Arc::new(Other));
        assert_eq!(other, Ok(Fd(0)));
        let socket = net.socket(context, SocketType::Datagram).expect("socket");
        assert_eq!(socket, Fd(1), "the next lowest number");
        assert_eq!(net.read(context, Fd(0), &mut [0; 4]), Err(Errno::NotSocket));
        let mut poll = [
            PollFd::new(Fd(0), PollEvents::READABLE | PollEvents::WRITABLE),
            PollFd::new(socket, PollEvents::WRITABLE),
            PollFd::new(Fd(7), PollEvents::READABLE),
        ];
        assert_eq!(net.poll(context, &mut poll, Some(0)), Ok(3));
        assert_eq!(
            poll[0].returned,
            PollEvents::READABLE | PollEvents::WRITABLE
        );
        assert_eq!(poll[1].returned, PollEvents::WRITABLE);
        assert_eq!(poll[2].returned, PollEvents::INVALID);
        net.close(context, Fd(0))
            .expect("close of the other object");
        assert_eq!(context.process().open_descriptors(), 1);
        assert_eq!(net.socket(context, SocketType::Stream), Ok(Fd(0)));
    });
    node.run(|context, net| {
        let option = net.option(context, Fd(1), kernel::net::OptionName::NonBlocking);
        assert_eq!(option, Err(Errno::BadDescriptor), "proc0 has its own table");
        assert_eq!(net.close(context, Fd(1)), Err(Errno::BadDescriptor));
    });
    drop(process);
    node.run(|context, net| {
        let open = net.with_stack(context, |stack| stack.sockets.len());
        assert_eq!(open, 0, "the process's end closed its sockets");
    });
}

/// Connects from a new process on node 1, writes, lets the process end
/// (with `linger` set) and says how node 2's side of the stream ended.
fn end_a_process(name: &str, linger: Option<u32>) -> (Vec<u8>, Result<(), Errno>) {
    let bus = Bus::new(name);
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let listening = nodes[1].run(|context, net| listener(context, net, PORT, 4));
    let (accepted, on_accept) = mpsc::channel();
    let server = nodes[1].spawn(move |context, net| drain(context, net, listening, accepted));
    let process = nodes[0].kernel.new_process();
    run_in(&nodes[0], &process, |context, net| {
        let fd = connect(context, net, 2, PORT).expect("connect");
        if let Some(seconds) = linger {
            let option = SocketOption::Linger(Some(seconds));
            net.set_option(context, fd, option).expect("SO_LINGER");
        }
        assert_eq!(net.write(context, fd, b"hello"), Ok(5));
    });
    // A reset before the accept would take the connection off the
    // listener's queue, and the server would wait for another.
    let deadline = Duration::from_nanos(DEADLINE_NS);
    on_accept.recv_timeout(deadline).expect("accepted in time");
    drop(process);
    // The last close came with no context: node 1's next lock sends it.
    nodes[0].run(|context, net| net.with_stack(context, |_| ()));
    server.join().expect("the server")
}

#[test]
fn a_process_ending_closes_its_connection_in_order() {
    let (bytes, end) = end_a_process("process-fin", None);
    assert_eq!(bytes, b"hello");
    assert_eq!(end, Ok(()), "a FIN, as close() sends");
}

#[test]
fn a_process_ending_with_linger_zero_resets_its_connection() {
    let (_, end) = end_a_process("process-rst", Some(0));
    assert_eq!(end, Err(Errno::ConnectionReset), "a RST, as close() sends");
}
