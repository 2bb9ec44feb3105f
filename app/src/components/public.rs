//! Pieces of the public pages (landing page and docs): the search-engine head (title,
//! description, canonical, `hreflang` alternates, Open Graph), code examples with a copy
//! button, and the footer. No islands: the copy buttons are `/copy.js`, a small file of
//! the site (the Content-Security-Policy allows no inline script), shown only when it runs.
use leptos::prelude::*;
use leptos_meta::{Link, Meta, Title};

use crate::i18n::{self, Lang};

/// `PUBLIC_BASE_URL` without its trailing slash (empty in the browser, where these pages
/// never render).
pub fn public_base_url() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<domain::Services>()
            .map(|s| s.settings.public_base_url.trim_end_matches('/').to_owned())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

/// Title, description, canonical address and its language alternates, Open Graph.
/// `path` is the page's path (`/`, `/docs`); each language has its own address
/// (`?lang=ar|en`), and the address without `lang` is the `x-default`.
#[component]
pub fn SeoHead(
    lang: Lang,
    path: &'static str,
    title: &'static str,
    description: &'static str,
) -> impl IntoView {
    let base = public_base_url();
    let url = |l: Lang| format!("{base}{path}?lang={}", l.code());
    let og_locale = |l: Lang| match l {
        Lang::Ar => "ar_KW",
        Lang::En => "en_US",
    };
    view! {
        <Title text=title/>
        <Meta name="description" content=description/>
        <Link rel="canonical" href=url(lang)/>
        <Link rel="alternate" hreflang="ar" href=url(Lang::Ar)/>
        <Link rel="alternate" hreflang="en" href=url(Lang::En)/>
        <Link rel="alternate" hreflang="x-default" href=format!("{base}{path}")/>
        <Meta property="og:type" content="website"/>
        <Meta property="og:site_name" content=i18n::Common::of(lang).brand/>
        <Meta property="og:title" content=title/>
        <Meta property="og:description" content=description/>
        <Meta property="og:url" content=url(lang)/>
        <Meta property="og:locale" content=og_locale(lang)/>
        <Meta property="og:locale:alternate" content=og_locale(lang.other())/>
        <Meta name="twitter:card" content="summary"/>
    }
}

/// One code example: a title, the code (left to right in both languages) and a copy button.
#[component]
pub fn CodeBlock(id: String, title: &'static str, code: String, lang: Lang) -> impl IntoView {
    let t = i18n::Landing::of(lang);
    view! {
        <div class="code-block">
            <h3>{title}</h3>
            <button type="button" class="button small secondary copy" hidden=true
                data-copy=id.clone() data-done=t.copied>{t.copy}</button>
            <pre><code id=id>{code}</code></pre>
        </div>
    }
}

/// The script of the copy buttons; once per page.
#[component]
pub fn CopyScript() -> impl IntoView {
    view! { <script src="/copy.js" defer=true></script> }
}

/// The code examples of the landing page and the quickstart: curl, Python and JavaScript
/// with the official OpenAI SDKs, against `base` (`PUBLIC_BASE_URL`).
pub fn examples(base: &str, model: &str) -> [(&'static str, &'static str, String); 3] {
    [
        (
            "ex-curl",
            "curl",
            format!(
                "curl {base}/v1/chat/completions \\\n  -H \"Authorization: Bearer $RESAYIL_API_KEY\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{{\"model\": \"{model}\", \"messages\": [{{\"role\": \"user\", \"content\": \"مرحبا\"}}]}}'"
            ),
        ),
        (
            "ex-python",
            "Python (openai)",
            format!(
                "# pip install openai\nimport os\nfrom openai import OpenAI\n\nclient = OpenAI(base_url=\"{base}/v1\", api_key=os.environ[\"RESAYIL_API_KEY\"])\nreply = client.chat.completions.create(\n    model=\"{model}\",\n    messages=[{{\"role\": \"user\", \"content\": \"مرحبا\"}}],\n)\nprint(reply.choices[0].message.content)"
            ),
        ),
        (
            "ex-js",
            "JavaScript (openai)",
            format!(
                "// npm install openai\nimport OpenAI from \"openai\";\n\nconst client = new OpenAI({{ baseURL: \"{base}/v1\", apiKey: process.env.RESAYIL_API_KEY }});\nconst reply = await client.chat.completions.create({{\n  model: \"{model}\",\n  messages: [{{ role: \"user\", content: \"مرحبا\" }}],\n}});\nconsole.log(reply.choices[0].message.content);"
            ),
        ),
    ]
}

/// The footer of the public pages.
#[component]
pub fn PublicFooter(lang: Lang) -> impl IntoView {
    let t = i18n::Landing::of(lang);
    let q = lang.code();
    view! {
        <footer class="site-footer">
            <a href=format!("/docs?lang={q}")>{t.footer_docs}</a>
            <a href="/openapi.json">{t.footer_spec}</a>
            <a href=format!("/register?lang={q}")>{i18n::Header::of(lang).nav_register}</a>
        </footer>
    }
}
