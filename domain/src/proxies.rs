//! Who the client is behind reverse proxies: the one reader of `X-Forwarded-For`, used by
//! the portal (login throttle, fail2ban's log line, registration limits) and the gateway
//! (per-IP limits, usage rows).
//!
//! Every proxy *appends* the address it received the request from, so only the right end
//! of the header can be believed, and only as far as the proxies we run: the client is the
//! right-most address that is not one of our trusted proxies — and only when the request
//! itself came from a trusted proxy. Anything further left was written by the client.
use std::net::IpAddr;

/// The proxies whose `X-Forwarded-For` entries are believed (`TRUSTED_PROXIES`: IPs and
/// CIDR ranges, comma-separated). Empty: the header is ignored and the socket peer is the
/// client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Range>);

/// One address range: the network's bits and how many of them are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    net: u128,
    prefix: u32,
    v4: bool,
}

impl Range {
    fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u32>().ok()?)),
            None => (text, None),
        };
        let (bits, v4) = bits(addr.parse().ok()?);
        let width = if v4 { 32 } else { 128 };
        let prefix = prefix.unwrap_or(width);
        (prefix <= width).then(|| Self {
            net: bits & mask(prefix, width),
            prefix,
            v4,
        })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let (bits, v4) = bits(ip);
        let width = if v4 { 32 } else { 128 };
        v4 == self.v4 && bits & mask(self.prefix, width) == self.net
    }
}

/// An address as an integer; IPv4-mapped IPv6 addresses count as the IPv4 address.
fn bits(ip: IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), true),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (u128::from(u32::from(v4)), true),
            None => (u128::from(v6), false),
        },
    }
}

fn mask(prefix: u32, width: u32) -> u128 {
    let all = if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    match width - prefix {
        w if w >= 128 => 0,
        w => all & (all << w),
    }
}

impl TrustedProxies {
    /// Reads `TRUSTED_PROXIES`; `loopback` (the old `TRUST_FORWARDED_FOR=true`) adds
    /// 127.0.0.0/8 and ::1, a proxy on the same machine. An entry that is not an address
    /// or a CIDR range is an error, naming it.
    pub fn parse(list: &str, loopback: bool) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            ranges.push(Range::parse(entry).ok_or_else(|| {
                format!("TRUSTED_PROXIES: {entry:?} is not an IP address or CIDR range")
            })?);
        }
        if loopback {
            ranges.extend(["127.0.0.0/8", "::1"].into_iter().filter_map(Range::parse));
        }
        Ok(Self(ranges))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|r| r.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The client's address: `peer` (the socket's) unless it is a trusted proxy, then the
/// right-most `X-Forwarded-For` entry that is not a trusted proxy. `headers` are the
/// values of every `X-Forwarded-For` header, in order. An unreadable entry ends the walk
/// at the last address a trusted proxy vouched for.
pub fn forwarded_for<'a>(
    peer: IpAddr,
    headers: impl IntoIterator<Item = &'a [u8]>,
    trusted: &TrustedProxies,
) -> IpAddr {
    if !trusted.contains(peer) {
        return peer;
    }
    let joined: Vec<String> = headers
        .into_iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let joined = joined.join(",");
    let mut client = peer;
    for entry in joined.rsplit(',') {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted.contains(ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn client(peer: &str, header: &str, trusted: &TrustedProxies) -> IpAddr {
        forwarded_for(ip(peer), [header.as_bytes()], trusted)
    }

    #[test]
    fn a_client_cannot_choose_its_address_by_writing_the_header_first() {
        let proxy = TrustedProxies::parse("10.0.0.5", false).unwrap();
        // The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real peer.
        assert_eq!(
            client("10.0.0.5", "1.2.3.4, 203.0.113.7", &proxy),
            ip("203.0.113.7")
        );
        assert_eq!(
            client("10.0.0.5", "127.0.0.1,10.0.0.5, 203.0.113.7", &proxy),
            ip("203.0.113.7")
        );
        assert_eq!(client("10.0.0.5", "203.0.113.7", &proxy), ip("203.0.113.7"));
    }

    #[test]
    fn without_a_trusted_peer_the_header_is_ignored() {
        let proxy = TrustedProxies::parse("10.0.0.5", false).unwrap();
        assert_eq!(
            client("198.51.100.9", "1.2.3.4", &proxy),
            ip("198.51.100.9")
        );
        let none = TrustedProxies::default();
        assert_eq!(client("127.0.0.1", "1.2.3.4", &none), ip("127.0.0.1"));
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked_from_the_right() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 2001:db8::/32", false).unwrap();
        assert_eq!(
            client(
                "10.1.2.3",
                "6.6.6.6, 198.51.100.1, 10.9.9.9, 2001:db8::1",
                &proxies
            ),
            ip("198.51.100.1")
        );
        // Several header lines are one list.
        let two = forwarded_for(
            ip("10.1.2.3"),
            [&b"6.6.6.6, 198.51.100.1"[..], &b"10.9.9.9"[..]],
            &proxies,
        );
        assert_eq!(two, ip("198.51.100.1"));
        // Only proxies in the chain: the left-most is as far as we can see.
        assert_eq!(client("10.1.2.3", "10.0.0.9", &proxies), ip("10.0.0.9"));
        // No header at all: the proxy itself.
        assert_eq!(
            forwarded_for(ip("10.1.2.3"), std::iter::empty(), &proxies),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn junk_stops_at_the_last_vouched_address() {
        let proxy = TrustedProxies::parse("10.0.0.5", false).unwrap();
        assert_eq!(
            client("10.0.0.5", "1.2.3.4, not-an-ip, 203.0.113.7", &proxy),
            ip("203.0.113.7")
        );
        assert_eq!(client("10.0.0.5", "garbage", &proxy), ip("10.0.0.5"));
        let bytes = forwarded_for(ip("10.0.0.5"), [&b"\xff\xfe, 203.0.113.7"[..]], &proxy);
        assert_eq!(bytes, ip("203.0.113.7"));
    }

    #[test]
    fn loopback_is_the_old_trust_forwarded_for_switch() {
        let local = TrustedProxies::parse("", true).unwrap();
        assert_eq!(client("127.0.0.1", "1.2.3.4", &local), ip("1.2.3.4"));
        assert_eq!(client("::1", "1.2.3.4", &local), ip("1.2.3.4"));
        assert_eq!(client("::ffff:127.0.0.1", "1.2.3.4", &local), ip("1.2.3.4"));
        assert_eq!(client("192.0.2.1", "1.2.3.4", &local), ip("192.0.2.1"));
    }

    #[test]
    fn ranges_are_checked_when_read() {
        assert!(TrustedProxies::parse("10.0.0.0/33", false).is_err());
        assert!(TrustedProxies::parse("proxy.local", false).is_err());
        assert!(TrustedProxies::parse(" , ", false).unwrap().is_empty());
        let any4 = TrustedProxies::parse("0.0.0.0/0", false).unwrap();
        assert!(any4.contains(ip("8.8.8.8")));
        assert!(!any4.contains(ip("2001:db8::1")));
        let net = TrustedProxies::parse("192.168.1.7/24", false).unwrap();
        assert!(net.contains(ip("192.168.1.200")));
        assert!(!net.contains(ip("192.168.2.1")));
    }
}
