//! The commands that change the kernel, and ping.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::ExitCode;

use anykernel_client::proto::types::{Interface, InterfaceAddress};
use anykernel_client::{Client, Stubs};

use crate::show;

fn failed(error: anykernel_client::Error) -> String {
    error.to_string()
}

/// `ADDR/N` (no prefix: a host, /32 for IPv4).
fn prefixed<A: std::str::FromStr>(text: &str, host: u8) -> Result<(A, u8), String> {
    let (address, length) = text.split_once('/').unwrap_or((text, ""));
    let address = address
        .parse()
        .map_err(|_| format!("`{text}` is not an address"))?;
    let length = if length.is_empty() {
        host
    } else {
        length
            .parse()
            .map_err(|_| format!("`{text}`: bad prefix length"))?
    };
    if length > host {
        return Err(format!("`{text}`: prefix longer than {host}"));
    }
    Ok((address, length))
}

/// `ifconfig`, `ifconfig IF` and `ifconfig IF SETTING…`.
pub fn ifconfig(
    client: &Client,
    interface: Option<String>,
    settings: &[String],
) -> Result<(), String> {
    let Some(name) = interface else {
        print!(
            "{}",
            show::interfaces(&client.interfaces().map_err(failed)?)
        );
        return Ok(());
    };
    if settings.is_empty() {
        let all = client.interfaces().map_err(failed)?;
        let one: Vec<Interface> = all.into_iter().filter(|i| i.name == name).collect();
        if one.is_empty() {
            return Err(format!("interface {name} does not exist"));
        }
        print!("{}", show::interfaces(&one));
        return Ok(());
    }
    let words: Vec<&str> = settings.iter().map(String::as_str).collect();
    apply(client, &name, &words)
}

fn apply(client: &Client, name: &str, words: &[&str]) -> Result<(), String> {
    let name = name.to_string();
    match words {
        ["up"] => client.set_interface_up(name, true),
        ["down"] => client.set_interface_up(name, false),
        ["delete"] | ["-alias"] | ["inet", "delete"] => client.set_interface_address(name, None),
        ["inet6", address] => {
            let (address, length) = prefixed::<Ipv6Addr>(address, 128)?;
            client.add_interface_address6(name, address, length)
        }
        ["-inet6", address] | ["inet6", address, "-alias"] => {
            let address = address
                .parse()
                .map_err(|_| format!("`{address}` is not an IPv6 address"))?;
            client.remove_interface_address6(name, address)
        }
        ["inet", address] | [address] => {
            let (address, prefix_length) = prefixed::<Ipv4Addr>(address, 32)?;
            let address = InterfaceAddress {
                address,
                prefix_length,
            };
            client.set_interface_address(name, Some(address))
        }
        _ => return Err(format!("cannot make sense of `{}`", words.join(" "))),
    }
    .map_err(failed)
}

/// `default` is 0.0.0.0/0; otherwise `NET/N` or a host.
fn destination(text: &str) -> Result<(Ipv4Addr, u8), String> {
    if text == "default" {
        return Ok((Ipv4Addr::UNSPECIFIED, 0));
    }
    prefixed(text, 32)
}

/// The interface whose network holds `gateway`.
fn interface_for(client: &Client, gateway: Ipv4Addr) -> Result<String, String> {
    let interfaces = client.interfaces().map_err(failed)?;
    let on_link = interfaces.into_iter().find(|interface| {
        interface.address.is_some_and(|a| {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(a.prefix_length))
                .unwrap_or(0);
            u32::from(a.address) & mask == u32::from(gateway) & mask
        })
    });
    on_link
        .map(|interface| interface.name)
        .ok_or_else(|| format!("no interface's network holds {gateway}; name one with -ifp"))
}

/// `route add`.
pub fn route_add(
    client: &Client,
    destination_text: &str,
    gateway: Option<Ipv4Addr>,
    interface: Option<String>,
) -> Result<(), String> {
    let (network, length) = destination(destination_text)?;
    if length == 0 && interface.is_none() {
        return client.set_default_gateway(gateway).map_err(failed);
    }
    let interface = match (interface, gateway) {
        (Some(interface), _) => interface,
        (None, Some(gateway)) => interface_for(client, gateway)?,
        (None, None) => return Err("a route needs a gateway or -ifp".into()),
    };
    client
        .add_route(network, length, gateway, interface)
        .map_err(failed)
}

/// `route delete`.
pub fn route_delete(client: &Client, destination_text: &str) -> Result<(), String> {
    let (network, length) = destination(destination_text)?;
    if length == 0 {
        return client.set_default_gateway(None).map_err(failed);
    }
    client.remove_route(network, length).map_err(failed)
}

/// `ping -c COUNT -W WAIT HOST`: exit 0 with any reply, 2 with none.
pub fn ping(client: &Client, host: Ipv4Addr, count: u16, wait_ms: u32) -> Result<ExitCode, String> {
    println!("PING {host}: 33 data bytes");
    let mut times = Vec::new();
    for sequence in 0..count {
        match client.ping(host, sequence, wait_ms) {
            Ok(ns) => {
                let ms = ns as f64 / 1e6;
                println!("41 bytes from {host}: icmp_seq={sequence} time={ms:.3} ms");
                times.push(ms);
            }
            Err(anykernel_client::Error::Errno(errno)) => {
                println!("Request timeout for icmp_seq {sequence} ({errno})");
            }
            Err(error) => return Err(error.to_string()),
        }
    }
    let lost = 100.0 * f64::from(count - times.len() as u16) / f64::from(count.max(1));
    println!("\n--- {host} ping statistics ---");
    println!(
        "{count} packets transmitted, {} packets received, {lost:.1}% packet loss",
        times.len()
    );
    if times.is_empty() {
        return Ok(ExitCode::from(2));
    }
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    let max = times.iter().copied().fold(0.0, f64::max);
    let average = times.iter().sum::<f64>() / times.len() as f64;
    println!("round-trip min/avg/max = {min:.3}/{average:.3}/{max:.3} ms");
    Ok(ExitCode::SUCCESS)
}
