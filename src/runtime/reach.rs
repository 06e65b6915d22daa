//! Where `fetch` may connect, how many redirects it follows, and how much
//! any answer (a fetched body, a model's reply) may hold. The address
//! checks sit where connections are made — in the fetch client's resolver
//! and its redirect policy — so a name that resolves, or a redirect that
//! points, somewhere refused is refused as well.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

/// The most bytes a fetched body or a model's reply may hold, unless
/// `--max-response-size` says otherwise.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 << 20;
/// How many redirects a fetch follows, unless `--max-redirects` says
/// otherwise.
pub const DEFAULT_MAX_REDIRECTS: usize = 5;

#[derive(Clone, Debug, PartialEq)]
pub struct Reach {
    /// What fetch may reach (`--fetch-allow`); when empty, every address
    /// but a link-local one.
    pub allow: Vec<Allowed>,
    pub max_redirects: usize,
    pub max_response_bytes: u64,
}

impl Default for Reach {
    fn default() -> Reach {
        Reach {
            allow: Vec::new(),
            max_redirects: DEFAULT_MAX_REDIRECTS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// One `--fetch-allow` entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Allowed {
    /// A host name (`api.example.com`), or every name under a domain
    /// (`*.example.com`).
    Host(String),
    /// An address or a network (`127.0.0.1`, `10.0.0.0/8`, `fd00::/8`).
    Net { base: IpAddr, prefix: u8 },
}

impl std::str::FromStr for Allowed {
    type Err = String;

    fn from_str(text: &str) -> Result<Allowed, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        if let Ok(base) = address.parse::<IpAddr>() {
            let most = if base.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => most,
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= most).ok_or_else(|| {
                    format!("`{text}`: a network's prefix is a number from 0 to {most}")
                })?,
            };
            return Ok(Allowed::Net { base, prefix });
        }
        let name = text.strip_prefix("*.").unwrap_or(text);
        let is_name = !name.is_empty()
            && prefix.is_none()
            && name
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !is_name {
            return Err(format!(
                "`{text}` is neither a host name (`api.example.com`, `*.example.com`) nor an address or network (`10.0.0.0/8`)"
            ));
        }
        Ok(Allowed::Host(text.to_ascii_lowercase()))
    }
}

impl Allowed {
    fn names(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        match self {
            Allowed::Host(pattern) => match pattern.strip_prefix("*.") {
                Some(domain) => host.ends_with(&format!(".{domain}")),
                None => host == *pattern,
            },
            Allowed::Net { .. } => false,
        }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let Allowed::Net { base, prefix } = self else {
            return false;
        };
        match (base.to_canonical(), ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Link-local addresses (169.254.0.0/16, fe80::/10): where cloud metadata
/// services hand out credentials to whatever asks.
fn link_local(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(ip) => ip.is_link_local(),
        IpAddr::V6(ip) => ip.segments()[0] & 0xffc0 == 0xfe80,
    }
}

impl Reach {
    /// Whether fetch may connect to `ip` (reached by a name no entry names).
    fn admits(&self, ip: IpAddr) -> bool {
        if self.allow.iter().any(|a| a.contains(ip)) {
            return true;
        }
        self.allow.is_empty() && !link_local(ip)
    }

    fn names(&self, host: &str) -> bool {
        self.allow.iter().any(|a| a.names(host))
    }

    /// Why fetch may not request `url`, when its host is an address that
    /// is not admitted (a name is checked when it resolves).
    pub fn refusal(&self, url: &reqwest::Url) -> Option<String> {
        let host = url.host_str()?;
        let ip: IpAddr = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()?;
        (!self.admits(ip)).then(|| self.refused(&ip.to_string()))
    }

    fn refused(&self, host: &str) -> String {
        if self.allow.is_empty() {
            format!("`{host}` is a link-local address, which fetch reaches only when `--fetch-allow` names it")
        } else {
            format!("`{host}` is not in what `--fetch-allow` lets fetch reach")
        }
    }

    /// The client `fetch` sends with: names resolved through the
    /// allow-list, redirects followed up to the limit and checked.
    pub fn client(reach: &Arc<Reach>) -> Result<reqwest::Client, String> {
        let redirects = reach.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let hops = attempt.previous().len();
            if hops > redirects.max_redirects {
                let limit = match redirects.max_redirects {
                    0 => "fetch follows no redirects (`--no-redirects`)".to_string(),
                    n => format!("fetch follows at most {n} redirects (`--max-redirects`)"),
                };
                let message = format!("redirected to `{}`, but {limit}", attempt.url());
                return attempt.error(Refused(message));
            }
            match redirects.refusal(attempt.url()) {
                Some(why) => attempt.error(Refused(why)),
                None => attempt.follow(),
            }
        });
        reqwest::Client::builder()
            .user_agent(concat!("spesc/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(Guard(reach.clone())))
            .redirect(policy)
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))
    }
}

/// A request fetch may not make; never worth another try.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The refusal somewhere in `error`'s causes, if it is one.
pub fn refusal_in<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e Refused> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(refused) = error.downcast_ref::<Refused>() {
            return Some(refused);
        }
        cause = error.source();
    }
    None
}

/// Resolves names as the system does, keeping only addresses fetch may
/// reach: a name the allow-list names keeps all of its addresses.
struct Guard(Arc<Reach>);

impl reqwest::dns::Resolve for Guard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let reach = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let lookup = host.clone();
            let found: Vec<SocketAddr> =
                tokio::task::spawn_blocking(move || (lookup.as_str(), 0).to_socket_addrs())
                    .await??
                    .collect();
            let named = reach.names(&host);
            let admitted: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| named || reach.admits(a.ip()))
                .collect();
            if admitted.is_empty() {
                return Err(Box::new(Refused(reach.refused(&host))) as _);
            }
            Ok(Box::new(admitted.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(allow: &[&str]) -> Reach {
        Reach {
            allow: allow.iter().map(|a| a.parse().unwrap()).collect(),
            ..Reach::default()
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_an_allow_list_everything_but_link_local_is_reached() {
        let open = reach(&[]);
        assert!(open.admits(ip("93.184.216.34")) && open.admits(ip("127.0.0.1")));
        for metadata in ["169.254.169.254", "fe80::1", "::ffff:169.254.169.254"] {
            assert!(!open.admits(ip(metadata)), "{metadata}");
        }
        assert!(reach(&["169.254.169.254"]).admits(ip("169.254.169.254")));
    }

    #[test]
    fn an_allow_list_admits_its_networks_and_names_only() {
        let listed = reach(&["10.0.0.0/8", "*.example.com", "api.test", "fd00::/8"]);
        assert!(listed.admits(ip("10.1.2.3")) && listed.admits(ip("fd12::1")));
        assert!(!listed.admits(ip("11.0.0.1")) && !listed.admits(ip("127.0.0.1")));
        assert!(listed.names("a.b.example.com") && listed.names("API.test."));
        assert!(!listed.names("example.com") && !listed.names("api.test.evil"));
        assert!(reach(&["0.0.0.0/0"]).admits(ip("169.254.1.1")));
    }

    #[test]
    fn a_bad_entry_says_what_is_expected() {
        assert!("10.0.0.0/33"
            .parse::<Allowed>()
            .unwrap_err()
            .contains("0 to 32"));
        assert!("http://x".parse::<Allowed>().is_err());
    }
}
