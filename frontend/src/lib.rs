//! The wasm entry point. Leptos islands mode: the server renders every page, and only
//! the `#[island]` components of `app` (forms, key list, buy buttons) hydrate here; the
//! hydration script calls each island's exported function after `hydrate`.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Links the islands' exported functions into this bundle.
    #[allow(unused_imports)]
    use app::*;
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
