//! Charts (issue 11, DASH-02), drawn in the browser by charming's `WasmRenderer` over
//! ECharts, which the server serves itself (`/echarts/echarts.min.js`) and `lib.rs` loads
//! only on pages that have charts (`has_charts`).
//!
//! A chart is data, [`ChartSpec`]: a caption, category labels (already written in the
//! page language), and series of integers. [`ChartView`] shows it: a `<figure>` with the
//! caption, the drawing (hidden from screen readers) and the same numbers as a `<table>`
//! for them (visually hidden). It is a plain component meant to run inside an island
//! (it draws only in the browser, again whenever its spec changes); [`Chart`] is the
//! island for a page that only needs to show one chart computed on the server.
//!
//! The drawing code is a lazy split point (`#[lazy]`, issue 11): charming, its option
//! types and their serialisation are built into a wasm chunk of their own
//! (`cargo leptos build --split`), which the browser fetches only when a chart is drawn,
//! so the forms' bundle stays small. Without the split (a build without `--split`) the
//! same code is simply part of the main bundle.
//!
//! The drawing follows the page: the colours of the theme (the CSS variables `--text`,
//! `--muted`, `--border`, `--surface`), right to left in Arabic (time runs from the right,
//! the value axis on the right), numbers in the page's digits in the tooltips and on the
//! value axis (tooltips give the exact numbers). The tooltip is drawn on the canvas
//! (`renderMode: richText`): ECharts' HTML tooltip writes inline styles that the pages'
//! Content-Security-Policy refuses.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::island_hydrated;
use crate::i18n::Lang;

/// How the series are drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChartKind {
    /// Bars, stacked when the spec says so.
    #[default]
    Bar,
    Line,
}

/// One series: a name (a model, a plan …) and a value per label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartSeries {
    pub name: String,
    pub values: Vec<i64>,
}

/// A chart as data (what crosses from the server to an island).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartSpec {
    /// The drawing's element id: unique on the page.
    pub id: String,
    /// What the chart shows, in the page language (the figure's caption).
    pub caption: String,
    /// The header of the label column in the table alternative ("Hour", "Day" …).
    pub label_header: String,
    /// The header of the total column in the table alternative.
    pub total_header: String,
    pub kind: ChartKind,
    /// Series stacked on each other (their sum is the bar's height).
    pub stacked: bool,
    /// The category axis, in order of time (in Arabic the chart draws it from the right).
    pub labels: Vec<String>,
    pub series: Vec<ChartSeries>,
}

impl ChartSpec {
    fn total_at(&self, i: usize) -> i64 {
        self.series
            .iter()
            .map(|s| s.values.get(i).copied().unwrap_or(0))
            .sum()
    }
}

/// What the values count, and so how they are written (tooltips, value axis, table).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChartUnit {
    /// Whole numbers: requests, credits.
    #[default]
    Count,
    /// Money in fils, written as KWD with three decimals.
    Fils,
}

impl ChartUnit {
    /// `n` written in the page's language and digits.
    pub fn fmt(self, lang: Lang, n: i64) -> String {
        match self {
            ChartUnit::Count => locale::fmt_int(lang, n),
            ChartUnit::Fils => locale::fmt_kwd(lang, n),
        }
    }
}

/// A chart computed on the server, as an island of its own.
#[island(lazy)]
pub fn Chart(
    lang: Lang,
    spec: ChartSpec,
    /// Counts when not given.
    #[prop(optional)]
    unit: Option<ChartUnit>,
) -> impl IntoView {
    provide_context(lang);
    island_hydrated();
    view! { <ChartView lang=lang spec=Signal::stored(spec) unit=unit.unwrap_or_default()/> }
}

/// The figure: caption, drawing, and the table alternative for screen readers.
#[component]
pub fn ChartView(
    lang: Lang,
    #[prop(into)] spec: Signal<ChartSpec>,
    #[prop(optional)] unit: ChartUnit,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        // Draws after the element is in the page, and again when the spec changes; the
        // first drawing on a page fetches the chart chunk (`draw::render` is lazy).
        Effect::new(move |_| {
            let s = spec.get();
            leptos::task::spawn_local(draw::render(lang, unit, s));
        });
        let _ = window_event_listener(leptos::ev::resize, move |_| {
            spec.with_untracked(|s| draw::resize(&s.id));
        });
    }
    move || {
        let s = spec.get();
        let fmt = move |n: i64| unit.fmt(lang, n);
        view! {
            <figure class="chart" data-testid=format!("chart-{}", s.id)>
                <figcaption class="chart-caption">{s.caption.clone()}</figcaption>
                <div id=s.id.clone() class="chart-canvas" aria-hidden="true"></div>
                // A table ignores `overflow`: the wrapper hides it.
                <div class="sr-only">
                <table data-testid="chart-table">
                    <caption>{s.caption.clone()}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{s.label_header.clone()}</th>
                            {s.series.iter().map(|x| view! { <th scope="col">{x.name.clone()}</th> }).collect_view()}
                            <th scope="col">{s.total_header.clone()}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {s.labels
                            .iter()
                            .enumerate()
                            .map(|(i, label)| {
                                view! {
                                    <tr>
                                        <th scope="row">{label.clone()}</th>
                                        {s.series
                                            .iter()
                                            .map(|x| view! { <td>{fmt(x.values.get(i).copied().unwrap_or(0))}</td> })
                                            .collect_view()}
                                        <td>{fmt(s.total_at(i))}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
                </div>
            </figure>
        }
    }
}

/// Digits of `text` in the page's language (labels such as `21:00` or `26/11`).
pub fn digits(lang: Lang, text: &str) -> String {
    match lang {
        Lang::En => text.to_owned(),
        Lang::Ar => text
            .chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(0x0660 + (c as u32 - '0' as u32)).unwrap_or(c),
                other => other,
            })
            .collect(),
    }
}

#[cfg(feature = "hydrate")]
mod draw {
    use charming::component::{Axis, Grid, Legend};
    use charming::element::{AxisPointer, AxisPointerType, AxisType, TextStyle, Tooltip, Trigger};
    use charming::renderer::WasmRenderer;
    use charming::series::{Bar, Line};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    use leptos::prelude::lazy;

    use super::{ChartKind, ChartSpec, ChartUnit};
    use crate::i18n::Lang;

    /// A palette that reads on the dark surface, the site's gold first.
    const PALETTE: &[&str] = &[
        "#d4a853", "#5ab0f0", "#7fd1a8", "#f07178", "#c792ea", "#ffcb6b", "#89ddff", "#f78c6c",
    ];

    fn get(obj: &JsValue, name: &str) -> Option<JsValue> {
        js_sys::Reflect::get(obj, &JsValue::from_str(name))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    /// `echarts.getInstanceByDom(el)`, if ECharts is loaded and has drawn there.
    fn instance(id: &str) -> Option<(JsValue, JsValue)> {
        let window: JsValue = web_sys::window()?.into();
        let echarts = get(&window, "echarts")?;
        let el = web_sys::window()?.document()?.get_element_by_id(id)?;
        let f: js_sys::Function = get(&echarts, "getInstanceByDom")?.dyn_into().ok()?;
        let inst = f.call1(&echarts, &el).ok()?;
        (!inst.is_undefined() && !inst.is_null()).then_some((echarts, inst))
    }

    fn call(obj: &JsValue, method: &str, arg: &JsValue) {
        if let Some(f) = get(obj, method).and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
            let _ = f.call1(obj, arg);
        }
    }

    pub fn resize(id: &str) {
        if let Some((_, inst)) = instance(id) {
            call(&inst, "resize", &JsValue::UNDEFINED);
        }
    }

    /// A CSS variable of the page (the theme), or `fallback`.
    fn css_var(name: &str, fallback: &str) -> String {
        let value = (|| {
            let w = web_sys::window()?;
            let root = w.document()?.document_element()?;
            let style = w.get_computed_style(&root).ok()??;
            style.get_property_value(name).ok()
        })();
        value
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| fallback.to_owned())
    }

    /// Draws `spec` into its element: the split point. Everything only it reaches
    /// (charming, the option types, their serialisation) lands in the lazily fetched
    /// chunk; the first call fetches it, later calls await the loaded one.
    #[lazy]
    pub fn render(lang: Lang, unit: ChartUnit, spec: ChartSpec) {
        draw(lang, unit, &spec);
    }

    fn draw(lang: Lang, unit: ChartUnit, spec: &ChartSpec) {
        let Some(window) = web_sys::window() else {
            return;
        };
        // Without ECharts (blocked, or not a chart page) the table alternative remains.
        if get(&window.clone().into(), "echarts").is_none() {
            return;
        }
        if window
            .document()
            .and_then(|d| d.get_element_by_id(&spec.id))
            .is_none()
        {
            return;
        }
        if let Some((_, old)) = instance(&spec.id) {
            call(&old, "dispose", &JsValue::UNDEFINED);
        }
        let rtl = lang == Lang::Ar;
        let text = css_var("--text", "#e6e9ee");
        let muted = css_var("--muted", "#9aa5b4");
        let border = css_var("--border", "#2a3441");
        let surface = css_var("--surface", "#151b23");
        let font = css_var("--font", "sans-serif");
        let style = |c: &str| TextStyle::new().color(c).font_family(font.as_str());
        let names: Vec<String> = spec.series.iter().map(|s| s.name.clone()).collect();
        let mut chart = charming::Chart::new()
            .color(PALETTE.to_vec())
            .tooltip(
                Tooltip::new()
                    .trigger(Trigger::Axis)
                    .axis_pointer(AxisPointer::new().type_(AxisPointerType::Shadow))
                    .background_color(surface.as_str())
                    .border_color(border.as_str()),
            )
            .legend(
                Legend::new()
                    .data(names)
                    .text_style(style(&text))
                    .left(if rtl { "right" } else { "left" }),
            )
            .grid(
                Grid::new()
                    .left(if rtl { "2%" } else { "1%" })
                    .right(if rtl { "1%" } else { "2%" })
                    .bottom("3%")
                    .top(56)
                    .contain_label(true),
            )
            .x_axis(
                Axis::new()
                    .type_(AxisType::Category)
                    .inverse(rtl)
                    .data(spec.labels.clone()),
            )
            .y_axis(Axis::new().type_(AxisType::Value).position(if rtl {
                "right"
            } else {
                "left"
            }));
        for s in &spec.series {
            chart = match spec.kind {
                ChartKind::Bar => {
                    let mut bar = Bar::new().name(s.name.as_str()).data(s.values.clone());
                    if spec.stacked {
                        bar = bar.stack("total");
                    }
                    chart.series(bar)
                }
                ChartKind::Line => {
                    let mut line = Line::new().name(s.name.as_str()).data(s.values.clone());
                    if spec.stacked {
                        line = line.stack("total");
                    }
                    chart.series(line)
                }
            };
        }
        let Ok(echarts) = WasmRenderer::new_opt(None, None).render(&spec.id, &chart) else {
            return;
        };
        let echarts: JsValue = echarts.into();
        // What charming cannot say without `new Function` (refused by the CSP): numbers in
        // the page's digits, the tooltip drawn on the canvas, the theme's axis colours.
        let number = Closure::<dyn Fn(JsValue) -> String>::new(move |v: JsValue| {
            unit.fmt(lang, v.as_f64().unwrap_or(0.0).round() as i64)
        });
        let patch = js_sys::Object::new();
        let set = |o: &js_sys::Object, k: &str, v: &JsValue| {
            let _ = js_sys::Reflect::set(o, &JsValue::from_str(k), v);
        };
        let tooltip = js_sys::Object::new();
        set(&tooltip, "renderMode", &"richText".into());
        set(&tooltip, "valueFormatter", number.as_ref());
        let tooltip_text = js_sys::Object::new();
        set(&tooltip_text, "color", &JsValue::from_str(&text));
        set(&tooltip, "textStyle", &tooltip_text);
        set(&patch, "tooltip", &tooltip);
        let axis_line = |color: &str| {
            let o = js_sys::Object::new();
            let line = js_sys::Object::new();
            let ls = js_sys::Object::new();
            set(&ls, "color", &JsValue::from_str(color));
            set(&line, "lineStyle", &ls);
            set(&o, "axisLine", &line);
            set(&o, "splitLine", &line);
            let label = js_sys::Object::new();
            set(&label, "color", &JsValue::from_str(&muted));
            set(&o, "axisLabel", &label);
            (o, label)
        };
        let (x, _) = axis_line(&border);
        let (y, y_label) = axis_line(&border);
        set(&y_label, "formatter", number.as_ref());
        // Whole numbers (counts, fils) on the value axis.
        set(&y, "minInterval", &JsValue::from_f64(1.0));
        set(&patch, "xAxis", &x);
        set(&patch, "yAxis", &y);
        call(&echarts, "setOption", &patch);
        // The chart keeps calling the formatter while it lives.
        number.forget();
    }
}
