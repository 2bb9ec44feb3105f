//! Islands: the only parts of a page that run in the browser (Leptos islands mode). A
//! page without one ships no wasm at all (`crate::has_islands`). An island receives no
//! context from outside it, so each takes the page language as a prop and provides it
//! to the components inside.
use leptos::prelude::*;

/// Counts this island as hydrated; when every island of the page is, marks
/// `<body data-hydrated="true">`, which the end-to-end tests wait for before they act.
pub fn island_hydrated() {
    Effect::new(|_| {
        let Some(body) = document().body() else {
            return;
        };
        let done = body
            .get_attribute("data-islands-hydrated")
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
            + 1;
        let _ = body.set_attribute("data-islands-hydrated", &done.to_string());
        let total = document()
            .query_selector_all("leptos-island")
            .map(|l| l.length())
            .unwrap_or(0);
        if done >= total {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// Copies `text` to the clipboard (the shown-once secrets: keys, invitation codes).
pub fn copy_to_clipboard(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// The value of the field `name` of the form a submit event comes from ("" when there is
/// none). Islands read their forms with it rather than through `ActionForm`, whose form
/// decoder (serde_qs) would otherwise be part of their wasm.
pub fn form_field(ev: &web_sys::SubmitEvent, name: &str) -> String {
    use leptos::wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        .and_then(|form| web_sys::FormData::new_with_form(&form).ok())
        .and_then(|data| data.get(name).as_string())
        .unwrap_or_default()
}
