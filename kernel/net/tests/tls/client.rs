//! The guest's TLS client: embedded-tls over a `TcpStream` of our stack.
//!
//! The crate is used as its documentation shows, with nothing of ours in
//! between but [`TcpStream`]: its blocking `TlsConnection` takes any
//! `embedded_io::{Read, Write}`. Randomness comes from the kernel host's
//! Random hypercall (getrandom(2) when hosted); the server's certificate
//! is checked against the run's CA, its name and its CertificateVerify.

use std::net::SocketAddrV4;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use base::Context;
use base::hypercall::Random;
use embedded_io::{Read, Write};
use embedded_tls::blocking::{
    Aes128GcmSha256, Certificate, CryptoProvider, NoClock, TlsConfig, TlsConnection, TlsContext,
    TlsError, TlsVerifier,
};
use embedded_tls::pki::CertVerifier;
use hypercall_posix::Posix;
use net::{Net, SocketType, TcpStream};
use rand_core::{CryptoRng, RngCore};

use super::{Guest, SERVER};

/// The request s_server's `-www` mode answers with a page on the session.
const REQUEST: &[u8] = b"GET / HTTP/1.0\r\n\r\n";
/// The largest TLS record (16 KiB of plaintext and its overhead).
const RECORD: usize = 16_640;

/// What the guest's TCP counted.
pub type Counters = tcp::TcpStats;

/// Random bytes from the host's Random hypercall, as rand_core 0.6 wants.
struct HostRandom(Arc<Posix>);

impl RngCore for HostRandom {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, buffer: &mut [u8]) {
        self.0
            .random_fill(buffer)
            .expect("getrandom(2) works on the test host");
    }

    fn try_fill_bytes(&mut self, buffer: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(buffer);
        Ok(())
    }
}

impl CryptoRng for HostRandom {}

/// The client's keys and checks: our randomness, the run's CA.
struct Provider<'a> {
    random: HostRandom,
    verifier: CertVerifier<'a, Aes128GcmSha256, NoClock, 4096>,
}

impl CryptoProvider for Provider<'_> {
    type CipherSuite = Aes128GcmSha256;
    type Signature = &'static [u8];

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut self.random
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
        Ok(&mut self.verifier)
    }
}

impl Guest {
    /// Fetches s_server's page over TLS, checking the certificate against
    /// `ca` (DER) for `name`. Panics if it takes longer than `within`.
    pub fn fetch(&self, ca: &[u8], name: &str, within: Duration) -> Result<String, TlsError> {
        let (kernel, host) = (self.kernel.clone(), self.host.clone());
        let (ca, name) = (ca.to_vec(), name.to_string());
        let (done, result) = mpsc::channel();
        std::thread::spawn(move || {
            let context = kernel.enter().expect("enter");
            let net = Net::of(&context).expect("the net component is linked");
            let _ = done.send(exchange(&context, &net, HostRandom(host), &ca, &name));
        });
        result
            .recv_timeout(within)
            .unwrap_or_else(|error| panic!("the TLS client did not finish in {within:?}: {error}"))
    }

    /// The guest's TCP counters.
    pub fn counters(&self) -> Counters {
        let net = self.net();
        let context = self.kernel.enter().expect("enter");
        net.with_stack(&context, |stack| *stack.tcp.stats())
    }
}

/// Connects, shakes hands, sends [`REQUEST`], reads the page, closes.
fn exchange(
    context: &Context<'_>,
    net: &Net,
    random: HostRandom,
    ca: &[u8],
    name: &str,
) -> Result<String, TlsError> {
    let server: SocketAddrV4 = SERVER.parse().expect("an address");
    let fd = net.socket(context, SocketType::Stream).expect("socket");
    net.connect(context, fd, server)
        .expect("a TCP connection to s_server");
    let stream = TcpStream::new(net, context, fd).expect("a TCP socket");
    let (mut read_record, mut write_record) = (vec![0u8; RECORD], vec![0u8; RECORD]);
    let mut tls = TlsConnection::new(stream, &mut read_record, &mut write_record);
    let config = TlsConfig::new().with_server_name(name);
    let provider = Provider {
        random,
        verifier: CertVerifier::new(Certificate::X509(ca)),
    };
    let page = tls
        .open(TlsContext::new(&config, provider))
        .and_then(|()| request(&mut tls));
    let _ = tls.close();
    net.close(context, fd).expect("close");
    page
}

/// Sends the request and reads until the page's end.
fn request<S: Read + Write>(
    tls: &mut TlsConnection<'_, S, Aes128GcmSha256>,
) -> Result<String, TlsError> {
    tls.write_all(REQUEST)?;
    tls.flush()?;
    let mut page = Vec::new();
    let mut buffer = [0u8; 2048];
    while !page.ends_with(b"</HTML>\r\n\r\n") {
        match tls.read(&mut buffer)? {
            0 => break,
            count => page.extend_from_slice(&buffer[..count]),
        }
    }
    Ok(String::from_utf8_lossy(&page).into_owned())
}
