//! The Leptos UI: pages, components, texts in Arabic and English, and the server functions
//! the pages call. Built twice: with `ssr` into the server, with `hydrate` into the wasm.
//!
//! Layout, by feature: [`pages`] (one file per area: landing, auth, dashboard, keys,
//! billing, admin), [`api`] (their server functions, the same areas), `server` (ssr-only
//! helpers behind them), [`components`] (header, form fields, order table), [`i18n`]
//! (texts per page, Arabic and English side by side) and [`dto`] (what crosses the wire).
// The pages with many sections (docs, keys) make view types deeper than the default limit
// allows when the browser build lays out their hydration futures.
#![recursion_limit = "256"]
pub mod api;
pub mod components;
pub mod dto;
pub mod i18n;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos_meta::MetaTags;
use leptos_meta::{provide_meta_context, Link, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

pub use i18n::Lang;

/// The HTML document around the app, rendered on the server only.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = request_lang();
    provide_context(lang);
    let path = use_context::<http::request::Parts>()
        .map(|p| p.uri.path().to_owned())
        .unwrap_or_default();
    let nonce = leptos::nonce::use_nonce().unwrap_or_else(|| {
        leptos::nonce::provide_nonce();
        leptos::nonce::use_nonce().unwrap_or_default()
    });
    // Only the site's own scripts (and the hydration script with this response's nonce)
    // and its wasm may run; the site may not be framed. Pages with charts also allow
    // inline style attributes: ECharts positions its canvas and tooltip with them (still no
    // inline script, and no style from anywhere else).
    let style_src = if has_charts(&path) {
        "'self' 'unsafe-inline'"
    } else {
        "'self'"
    };
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src {style_src}; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(v) = http::HeaderValue::from_str(&csp) {
        // Through the request's `PageCsp` slot, which the server's header middleware reads:
        // under concurrent requests, leptos_axum sometimes answers without the headers set
        // through `ResponseOptions` (seen on 3-7 in 40 page loads made alongside other
        // requests), and a page without its CSP gets the locked-down default, which
        // blocks its own scripts.
        if let Some(slot) = use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<PageCsp>().cloned())
        {
            slot.set(v.clone());
        }
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang=lang.code() dir=lang.dir()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="dark"/>
                <AutoReload options=options.clone()/>
                // ECharts first: deferred scripts and the hydration module run in order.
                {has_charts(&path).then(|| view! { <script defer src=ECHARTS_JS></script> })}
                {has_islands(&path).then(|| view! { <HydrationScripts options islands=true/> })}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The Content-Security-Policy a page chose (with the nonce of its hydration script): the
/// server's header middleware puts an empty slot in each request's extensions, the shell
/// fills it, and the middleware sets the header from it when the response lacks one.
#[cfg(feature = "ssr")]
#[derive(Clone, Default)]
pub struct PageCsp(std::sync::Arc<std::sync::Mutex<Option<http::HeaderValue>>>);

#[cfg(feature = "ssr")]
impl PageCsp {
    pub fn set(&self, v: http::HeaderValue) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(v);
        }
    }

    pub fn get(&self) -> Option<http::HeaderValue> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// Whether the page at `path` has islands (`#[island]`: the only code that runs in the
/// browser). Pages without any get no hydration scripts, so they load no JavaScript and
/// no wasm at all: the landing page, the payment pages, the admin pages other than the
/// overview (their forms post without JavaScript; the overview has its charts) and every
/// unknown address.
#[cfg(feature = "ssr")]
pub fn has_islands(path: &str) -> bool {
    matches!(
        path.trim_end_matches('/'),
        "/register"
            | "/login"
            | "/keys"
            | "/billing"
            | "/dashboard"
            | "/team"
            | "/playground"
            | "/usage"
            | "/admin"
    )
}

/// ECharts 5.6.0 (npm `echarts`, Apache-2.0), served from `public/echarts/`: the charts'
/// drawing library, which charming's `WasmRenderer` calls (`components::chart`).
#[cfg(feature = "ssr")]
pub const ECHARTS_JS: &str = "/echarts/echarts.min.js";

/// Whether the page at `path` draws charts, and so loads ECharts (~335 KB gzip) and the
/// chart wasm chunk: only those pages; the landing page and the forms never do.
#[cfg(feature = "ssr")]
pub fn has_charts(path: &str) -> bool {
    matches!(
        path.trim_end_matches('/'),
        "/dashboard" | "/team" | "/admin"
    )
}

/// The language the server chose for this request (see `i18n`).
#[cfg(feature = "ssr")]
pub(crate) fn request_lang() -> Lang {
    use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<Lang>().copied())
        .unwrap_or_default()
}

/// In the browser, the language is the one the server wrote into `<html lang>`.
#[cfg(not(feature = "ssr"))]
fn request_lang() -> Lang {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("lang"))
        .and_then(|l| Lang::from_code(&l))
        .unwrap_or_default()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let lang = use_context::<Lang>().unwrap_or_else(request_lang);
    provide_context(lang);
    let c = i18n::Common::of(lang);
    use pages::{
        account, admin, auth, billing, dashboard, docs, keys, landing, not_found, playground, team,
        usage,
    };
    view! {
        <Stylesheet id="leptos" href="/pkg/resayil.css"/>
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Title text=c.brand/>
        <Router>
            <components::Header/>
            <main class="container">
                <Routes fallback=not_found::NotFound>
                    <Route path=path!("/") view=landing::Landing ssr=SsrMode::Async/>
                    <Route path=path!("/docs") view=docs::Docs ssr=SsrMode::Async/>
                    <Route path=path!("/register") view=auth::Register/>
                    <Route path=path!("/login") view=auth::Login/>
                    <Route path=path!("/forgot") view=account::Forgot/>
                    <Route path=path!("/reset") view=account::ResetPage/>
                    <Route path=path!("/account") view=account::AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard") view=dashboard::Dashboard ssr=SsrMode::Async/>
                    <Route path=path!("/playground") view=playground::Playground ssr=SsrMode::Async/>
                    <Route path=path!("/keys") view=keys::Keys ssr=SsrMode::Async/>
                    <Route path=path!("/usage") view=usage::UsagePage ssr=SsrMode::Async/>
                    <Route path=path!("/billing") view=billing::Billing ssr=SsrMode::Async/>
                    <Route path=path!("/team") view=team::Team ssr=SsrMode::Async/>
                    <Route path=path!("/billing/test-pay/:id") view=billing::TestPayPage/>
                    <Route path=path!("/billing/callback") view=billing::PaymentResultPage/>
                    <Route path=path!("/billing/result") view=billing::PaymentResultPage/>
                    <Route path=path!("/admin") view=admin::AdminOverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/orders") view=admin::AdminOrdersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=admin::AdminUsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id") view=admin::AdminUserPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/models") view=admin::AdminModelsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=admin::AdminAuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/notifications") view=admin::AdminNotificationsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
