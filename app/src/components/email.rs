//! An e-mail address as the pages show it.
use leptos::prelude::*;

/// The address left to right (also on Arabic pages), allowed to wrap before its `@` only:
/// tables keep their columns narrow and a long address in a heading on a phone wraps
/// there instead of letter by letter.
pub fn email_address(address: &str) -> impl IntoView {
    let (local, domain) = address.split_at(address.find('@').unwrap_or(address.len()));
    view! { <bdi dir="ltr" class="email">{local.to_owned()}<wbr/>{domain.to_owned()}</bdi> }
}
