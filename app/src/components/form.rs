//! An accessible form field and the errors of an action's last result.
use leptos::prelude::*;

use crate::dto::{AppError, ErrorCode};
use crate::i18n::{self, use_lang};

/// A labelled input whose error (from the last submission) is shown under it and
/// announced to screen readers.
#[component]
pub fn Field(
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(default = "text")] inputmode: &'static str,
    #[prop(into)] error: Signal<Option<ErrorCode>>,
    /// What the field shows at first (server-rendered forms that edit a value).
    #[prop(optional, into)]
    value: Option<String>,
) -> impl IntoView {
    let c = i18n::Common::of(use_lang());
    let id = format!("f-{name}");
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = format!("{hint_id} {err_id}");
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                inputmode=inputmode
                autocomplete=autocomplete
                value=value
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described
            />
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <p class="error" id=err_id role="alert" aria-live="polite">
                {move || error.get().map(|code| c.error(code))}
            </p>
        </div>
    }
}

/// The error of an action's last result, for one field.
pub fn field_error<T, S>(value: S, field: &'static str) -> Signal<Option<ErrorCode>>
where
    S: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || {
        value.with(|v| match v {
            Some(Err(e)) => e.for_field(field),
            _ => None,
        })
    })
}

/// An error not tied to a field (server trouble, lost session), shown above the form.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<ErrorCode>>) -> impl IntoView {
    let c = i18n::Common::of(use_lang());
    view! {
        <p class="form-error" role="alert" aria-live="assertive">
            {move || error.get().map(|code| c.error(code))}
        </p>
    }
}

/// The error of an action's last result that no field shows.
pub fn general_error<T, S>(value: S) -> Signal<Option<ErrorCode>>
where
    S: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || {
        value.with(|v| match v {
            Some(Err(AppError::Field { .. })) | None | Some(Ok(_)) => None,
            Some(Err(e)) => Some(e.code()),
        })
    })
}
