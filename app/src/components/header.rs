//! The header of every page.
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::auth::{whoami, Logout};
use crate::i18n::{self, use_lang};

/// The header of every page: brand, navigation for the signed-in user, language switch
/// and logout. Who is signed in is asked again on each navigation, so logging in or out
/// shows at once.
#[component]
pub fn Header() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Header::of(lang);
    let c = i18n::Common::of(lang);
    let location = use_location();
    let me = Resource::new(move || location.pathname.get(), |_| whoami());
    let logout = ServerAction::<Logout>::new();
    // The switch reloads the page (rel="external") so the server renders it in the
    // other language and stores the choice in the `lang` cookie.
    let switch_href = move || {
        let search: String = location
            .search
            .get()
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("lang="))
            .map(|p| format!("{p}&"))
            .collect();
        format!(
            "{}?{search}lang={}",
            location.pathname.get(),
            lang.other().code()
        )
    };
    view! {
        <header class="site-header">
            <a href="/" class="brand">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                {c.brand}
            </a>
            <nav class="nav" aria-label="main">
                <Transition fallback=|| ()>
                    {move || {
                        me.get()
                            .map(|r| match r {
                                Ok(Some(me)) => {
                                    view! {
                                        <a href="/dashboard">{t.nav_dashboard}</a>
                                        <a href="/keys">{c.nav_keys}</a>
                                        <a href="/playground" rel="external">{t.nav_playground}</a>
                                        <a href="/billing" rel="external">{t.nav_billing}</a>
                                        <a href="/account" rel="external">{i18n::Account::of(lang).nav_account}</a>
                                        <a href="/team" rel="external">{t.nav_team}</a>
                                        <a href="/billing#packs" rel="external" class="button small top-up" data-testid="header-top-up">
                                            {t.top_up}
                                        </a>
                                        <Show when=move || me.is_admin>
                                            <a href="/admin" rel="external">{c.nav_admin}</a>
                                        </Show>
                                        <ActionForm action=logout>
                                            <button type="submit" class="link-button" data-testid="logout">
                                                {t.logout}
                                            </button>
                                        </ActionForm>
                                    }
                                        .into_any()
                                }
                                _ => {
                                    view! {
                                        <a href="/login">{t.nav_login}</a>
                                        <a href="/register" class="button small">{t.nav_register}</a>
                                    }
                                        .into_any()
                                }
                            })
                    }}
                </Transition>
                <a href=switch_href rel="external" class="lang-switch" hreflang=lang.other().code()>
                    {t.switch_to}
                </a>
            </nav>
        </header>
    }
}
