//! Arabic and English texts. Every word a page shows comes from here: a `Texts` value per
//! language, so a missing translation is a compile error rather than a blank on screen.
//!
//! The page language is decided on the server (`?lang=` → `lang` cookie → the browser's
//! `Accept-Language`, Arabic unless English is preferred) and written into
//! `<html lang dir>`; the hydrated app reads it back from there.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dto::ErrorCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Lang {
    #[default]
    Ar,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ar => "ar",
            Lang::En => "en",
        }
    }
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            Lang::En => "ltr",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ar" => Some(Lang::Ar),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    /// Arabic unless the browser ranks English above Arabic.
    pub fn from_accept_language(header: &str) -> Self {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("en") => Lang::En,
                Some("ar") => Lang::Ar,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Ar)
    }
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Ar => &AR,
            Lang::En => &EN,
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::Ar => Lang::En,
            Lang::En => Lang::Ar,
        }
    }
}

/// The page language from context (provided by `App`).
pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_default()
}

/// The texts of the page language.
pub fn use_t() -> &'static Texts {
    use_lang().texts()
}

/// Writes an integer with the locale's digits and thousands separator.
pub fn fmt_int(lang: Lang, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if n < 0 {
        grouped.insert(0, '-');
    }
    match lang {
        Lang::En => grouped,
        Lang::Ar => grouped
            .chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(0x0660 + (c as u32 - '0' as u32)).unwrap_or(c),
                ',' => '٬',
                other => other,
            })
            .collect(),
    }
}

/// A unix time as `YYYY-MM-DD HH:MM` in Asia/Kuwait (UTC+3 all year, no DST).
pub fn fmt_kuwait_time(ts: i64) -> String {
    let t = ts + 3 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

pub struct Texts {
    pub brand: &'static str,
    pub tagline: &'static str,
    pub switch_to: &'static str,
    pub nav_dashboard: &'static str,
    pub nav_keys: &'static str,
    pub nav_billing: &'static str,
    pub nav_admin: &'static str,
    pub nav_login: &'static str,
    pub nav_register: &'static str,
    pub logout: &'static str,
    pub hero_title: &'static str,
    pub hero_body: &'static str,
    pub hero_cta: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub phone_hint: &'static str,
    pub password: &'static str,
    pub password_hint: &'static str,
    pub register_title: &'static str,
    pub register_submit: &'static str,
    pub have_account: &'static str,
    pub login_title: &'static str,
    pub login_submit: &'static str,
    pub no_account: &'static str,
    pub working: &'static str,
    pub welcome: &'static str,
    pub balance: &'static str,
    pub credits: &'static str,
    pub plan: &'static str,
    pub no_plan: &'static str,
    pub expires: &'static str,
    pub top_up: &'static str,
    pub manage_keys: &'static str,
    pub keys_title: &'static str,
    pub keys_intro: &'static str,
    pub label: &'static str,
    pub label_hint: &'static str,
    pub create_key: &'static str,
    pub new_key_title: &'static str,
    pub new_key_once: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub key_col: &'static str,
    pub created_col: &'static str,
    pub last_used_col: &'static str,
    pub never: &'static str,
    pub delete: &'static str,
    pub no_keys: &'static str,
    pub loading: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub back_home: &'static str,
    pub plan_names: [&'static str; 3],
    pub err_required: &'static str,
    pub err_too_long: &'static str,
    pub err_invalid_email: &'static str,
    pub err_invalid_phone: &'static str,
    pub err_password_short: &'static str,
    pub err_email_taken: &'static str,
    pub err_phone_taken: &'static str,
    pub err_credentials: &'static str,
    pub err_too_many: &'static str,
    pub err_key_limit: &'static str,
    pub err_unauthorized: &'static str,
    pub err_not_found: &'static str,
    pub err_server: &'static str,
    pub billing_title: &'static str,
    pub billing_intro: &'static str,
    pub current_plan: &'static str,
    pub status_active: &'static str,
    pub status_expired: &'static str,
    pub status_none: &'static str,
    pub per_30_days: &'static str,
    pub credits_included: &'static str,
    pub requests_per_minute: &'static str,
    pub models_label: &'static str,
    pub extras_priority: &'static str,
    pub subscribe: &'static str,
    pub renew: &'static str,
    pub packs_title: &'static str,
    pub never_expire: &'static str,
    pub buy: &'static str,
    pub pay_knet: &'static str,
    pub pay_card: &'static str,
    pub history_title: &'static str,
    pub no_payments: &'static str,
    pub date_col: &'static str,
    pub item_col: &'static str,
    pub amount_col: &'static str,
    pub status_col: &'static str,
    pub invoice_col: &'static str,
    pub order_pending: &'static str,
    pub order_paid: &'static str,
    pub order_failed: &'static str,
    pub order_canceled: &'static str,
    pub order_mismatch: &'static str,
    pub test_banner: &'static str,
    pub test_pay_title: &'static str,
    pub test_pay_ok: &'static str,
    pub test_pay_fail: &'static str,
    pub result_paid: &'static str,
    pub result_failed: &'static str,
    pub result_canceled: &'static str,
    pub result_pending: &'static str,
    pub result_mismatch: &'static str,
    pub try_again: &'static str,
    pub to_dashboard: &'static str,
    pub back_to_billing: &'static str,
    pub admin_orders: &'static str,
    pub account_col: &'static str,
    pub mark_paid: &'static str,
    pub reason: &'static str,
    pub reason_hint: &'static str,
    pub admin_notifications: &'static str,
    pub to_col: &'static str,
    pub kind_col: &'static str,
    pub attempts_col: &'static str,
    pub last_error_col: &'static str,
    pub resend: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub err_payment_unavailable: &'static str,
    pub err_conflict: &'static str,
    pub err_forbidden: &'static str,
    pub err_phone_country: &'static str,
    pub err_too_many_requests: &'static str,
    pub err_payments_disabled: &'static str,
    pub payments_unavailable: &'static str,
}

impl Texts {
    pub fn error(&self, code: ErrorCode) -> &'static str {
        match code {
            ErrorCode::Required => self.err_required,
            ErrorCode::TooLong => self.err_too_long,
            ErrorCode::InvalidEmail => self.err_invalid_email,
            ErrorCode::InvalidPhone => self.err_invalid_phone,
            ErrorCode::PasswordTooShort => self.err_password_short,
            ErrorCode::EmailTaken => self.err_email_taken,
            ErrorCode::PhoneTaken => self.err_phone_taken,
            ErrorCode::InvalidCredentials => self.err_credentials,
            ErrorCode::TooManyAttempts => self.err_too_many,
            ErrorCode::KeyLimitReached => self.err_key_limit,
            ErrorCode::Unauthorized => self.err_unauthorized,
            ErrorCode::NotFound => self.err_not_found,
            ErrorCode::Server => self.err_server,
            ErrorCode::PaymentUnavailable => self.err_payment_unavailable,
            ErrorCode::Conflict => self.err_conflict,
            ErrorCode::Forbidden => self.err_forbidden,
            ErrorCode::PhoneCountryNotAllowed => self.err_phone_country,
            ErrorCode::TooManyRequests => self.err_too_many_requests,
            ErrorCode::PaymentsDisabled => self.err_payments_disabled,
        }
    }

    pub fn plan_name(&self, id: &str) -> &'static str {
        match id {
            "pro" => self.plan_names[1],
            "enterprise" => self.plan_names[2],
            _ => self.plan_names[0],
        }
    }
}

pub static EN: Texts = Texts {
    brand: "Resayil LLM",
    tagline: "Private LLMs for Gulf businesses",
    switch_to: "العربية",
    nav_dashboard: "Dashboard",
    nav_keys: "API keys",
    nav_billing: "Billing",
    nav_admin: "Admin",
    nav_login: "Log in",
    nav_register: "Sign up",
    logout: "Log out",
    hero_title: "Fast, private language models, billed in KWD",
    hero_body: "An OpenAI-compatible API on GPU servers in the region, with cloud failover. Pay with KNET or card, get WhatsApp alerts, and keep using the OpenAI SDKs you already know.",
    hero_cta: "Create your free account",
    email: "Email",
    phone: "Phone",
    phone_hint: "International format, e.g. +965 5001 2345",
    password: "Password",
    password_hint: "At least 8 characters",
    register_title: "Create your account",
    register_submit: "Create account",
    have_account: "Already have an account? Log in",
    login_title: "Log in",
    login_submit: "Log in",
    no_account: "New here? Create an account",
    working: "Please wait…",
    welcome: "Welcome, ",
    balance: "Credit balance",
    credits: "credits",
    plan: "Plan",
    no_plan: "No active plan (Basic limits)",
    expires: "Renews or expires on",
    top_up: "Top up credits",
    manage_keys: "Manage API keys",
    keys_title: "API keys",
    keys_intro: "Use a key as a Bearer token with any OpenAI SDK. Keys are shown once; keep them secret.",
    label: "Label",
    label_hint: "A name to recognise the key, e.g. production",
    create_key: "Create key",
    new_key_title: "Your new key",
    new_key_once: "Copy it now: it will not be shown again.",
    copy: "Copy",
    copied: "Copied",
    key_col: "Key",
    created_col: "Created",
    last_used_col: "Last used",
    never: "Never",
    delete: "Delete",
    no_keys: "No keys yet.",
    loading: "Loading…",
    not_found_title: "Page not found",
    not_found_body: "The page you asked for does not exist.",
    back_home: "Back to the home page",
    plan_names: ["Basic", "Pro", "Enterprise"],
    err_required: "This field is required.",
    err_too_long: "This is too long.",
    err_invalid_email: "Enter a valid email address.",
    err_invalid_phone: "Enter the number in international format; Kuwait numbers are +965 and 8 digits.",
    err_password_short: "The password must have at least 8 characters.",
    err_email_taken: "An account with this email already exists.",
    err_phone_taken: "An account with this phone number already exists.",
    err_credentials: "Wrong email or password.",
    err_too_many: "Too many failed attempts. Try again in 15 minutes.",
    err_key_limit: "Your plan's key limit is reached. Delete a key first.",
    err_unauthorized: "Please log in again.",
    err_not_found: "Not found.",
    err_server: "Something went wrong on our side. Please try again.",
    billing_title: "Plans and credits",
    billing_intro: "Subscribe to a plan for 30 days, or top up credits that never expire. Prices in Kuwaiti dinars; pay with KNET or card.",
    current_plan: "Your plan",
    status_active: "Active",
    status_expired: "Expired — Basic limits apply",
    status_none: "No plan — Basic limits apply",
    per_30_days: "per 30 days",
    credits_included: "credits included",
    requests_per_minute: "requests per minute",
    models_label: "Models",
    extras_priority: "Priority queue and teams",
    subscribe: "Subscribe",
    renew: "Renew",
    packs_title: "Top-up packs",
    never_expire: "Credits never expire",
    buy: "Buy",
    pay_knet: "KNET",
    pay_card: "Card",
    history_title: "Payment history",
    no_payments: "No payments yet.",
    date_col: "Date",
    item_col: "Item",
    amount_col: "Amount",
    status_col: "Status",
    invoice_col: "Invoice",
    order_pending: "Pending",
    order_paid: "Paid",
    order_failed: "Failed",
    order_canceled: "Canceled",
    order_mismatch: "Under review",
    test_banner: "TEST PAYMENT — this is the local test gateway. No money moves and no card is asked for.",
    test_pay_title: "Test payment",
    test_pay_ok: "Pay (test)",
    test_pay_fail: "Fail the payment (test)",
    result_paid: "Payment confirmed. Your credits are ready.",
    result_failed: "The payment did not go through. No money was taken and nothing changed. You can try again.",
    result_canceled: "The payment was canceled. Nothing changed.",
    result_pending: "We are confirming your payment. This page updates by itself; you can also come back later.",
    result_mismatch: "We could not match this payment to your order. Our team will review it; nothing was charged twice.",
    try_again: "Try again",
    to_dashboard: "Go to the dashboard",
    back_to_billing: "Back to billing",
    admin_orders: "Orders",
    account_col: "Account",
    mark_paid: "Mark paid",
    reason: "Reason",
    reason_hint: "What you checked with MyFatoorah (kept in the ledger)",
    admin_notifications: "Notifications",
    to_col: "To",
    kind_col: "Message",
    attempts_col: "Attempts",
    last_error_col: "Last error",
    resend: "Resend",
    previous: "Previous",
    next: "Next",
    err_payment_unavailable: "The payment could not be started. Please try again in a moment.",
    err_conflict: "This cannot be done in the current state.",
    err_forbidden: "Only administrators can do this.",
    err_phone_country: "Registration is not open to phone numbers from this country yet.",
    err_too_many_requests: "Too many requests. Please try again in an hour.",
    err_payments_disabled: "Online payments are not available yet. Please contact us to buy a plan or credits.",
    payments_unavailable: "Online payments are not available yet: plans and credits cannot be bought here for now. Please contact us.",
};

pub static AR: Texts = Texts {
    brand: "رسائل LLM",
    tagline: "نماذج لغوية خاصة لشركات الخليج",
    switch_to: "English",
    nav_dashboard: "لوحة التحكم",
    nav_keys: "مفاتيح API",
    nav_billing: "الفوترة",
    nav_admin: "الإدارة",
    nav_login: "تسجيل الدخول",
    nav_register: "إنشاء حساب",
    logout: "تسجيل الخروج",
    hero_title: "نماذج لغوية سريعة وخاصة، بالدينار الكويتي",
    hero_body: "واجهة برمجية متوافقة مع OpenAI على خوادم GPU في المنطقة مع تحويل تلقائي إلى السحابة. ادفع عبر كي نت أو البطاقة، واستلم التنبيهات على واتساب، واستخدم مكتبات OpenAI التي تعرفها.",
    hero_cta: "أنشئ حسابك مجاناً",
    email: "البريد الإلكتروني",
    phone: "رقم الهاتف",
    phone_hint: "بالصيغة الدولية، مثل \u{2066}+965 5001 2345\u{2069}",
    password: "كلمة المرور",
    password_hint: "٨ أحرف على الأقل",
    register_title: "أنشئ حسابك",
    register_submit: "إنشاء الحساب",
    have_account: "لديك حساب؟ سجّل الدخول",
    login_title: "تسجيل الدخول",
    login_submit: "دخول",
    no_account: "جديد هنا؟ أنشئ حساباً",
    working: "يرجى الانتظار…",
    welcome: "مرحباً، ",
    balance: "رصيدك الحالي",
    credits: "رصيد",
    plan: "الباقة",
    no_plan: "لا توجد باقة فعالة (حدود الباقة الأساسية)",
    expires: "تتجدد أو تنتهي في",
    top_up: "اشحن رصيدك",
    manage_keys: "إدارة مفاتيح API",
    keys_title: "مفاتيح API",
    keys_intro: "استخدم المفتاح كرمز Bearer مع أي مكتبة OpenAI. يظهر المفتاح مرة واحدة فقط؛ احفظه بسرية.",
    label: "الاسم",
    label_hint: "اسم يميّز المفتاح، مثل production",
    create_key: "إنشاء مفتاح",
    new_key_title: "مفتاحك الجديد",
    new_key_once: "انسخه الآن: لن يظهر مرة أخرى.",
    copy: "نسخ",
    copied: "تم النسخ",
    key_col: "المفتاح",
    created_col: "أُنشئ",
    last_used_col: "آخر استخدام",
    never: "لم يُستخدم",
    delete: "حذف",
    no_keys: "لا توجد مفاتيح بعد.",
    loading: "جارٍ التحميل…",
    not_found_title: "الصفحة غير موجودة",
    not_found_body: "الصفحة التي طلبتها غير موجودة.",
    back_home: "العودة إلى الصفحة الرئيسية",
    plan_names: ["الأساسية", "الاحترافية", "المؤسسات"],
    err_required: "هذا الحقل مطلوب.",
    err_too_long: "القيمة طويلة جداً.",
    err_invalid_email: "أدخل بريداً إلكترونياً صحيحاً.",
    err_invalid_phone: "أدخل الرقم بالصيغة الدولية؛ أرقام الكويت تبدأ بـ \u{2066}+965\u{2069} وتليها ٨ أرقام.",
    err_password_short: "يجب أن تتكون كلمة المرور من ٨ أحرف على الأقل.",
    err_email_taken: "يوجد حساب بهذا البريد الإلكتروني.",
    err_phone_taken: "يوجد حساب بهذا الرقم.",
    err_credentials: "البريد الإلكتروني أو كلمة المرور غير صحيحة.",
    err_too_many: "محاولات فاشلة كثيرة. حاول مرة أخرى بعد ١٥ دقيقة.",
    err_key_limit: "وصلت إلى الحد الأقصى للمفاتيح في باقتك. احذف مفتاحاً أولاً.",
    err_unauthorized: "يرجى تسجيل الدخول مرة أخرى.",
    err_not_found: "غير موجود.",
    err_server: "حدث خطأ من جهتنا. حاول مرة أخرى.",
    billing_title: "الباقات والرصيد",
    billing_intro: "اشترك في باقة لمدة ٣٠ يوماً، أو اشحن رصيداً لا ينتهي. الأسعار بالدينار الكويتي؛ الدفع عبر كي نت أو البطاقة.",
    current_plan: "باقتك",
    status_active: "فعالة",
    status_expired: "منتهية — تُطبّق حدود الباقة الأساسية",
    status_none: "لا توجد باقة — تُطبّق حدود الباقة الأساسية",
    per_30_days: "لكل ٣٠ يوماً",
    credits_included: "رصيد مشمول",
    requests_per_minute: "طلب في الدقيقة",
    models_label: "النماذج",
    extras_priority: "أولوية في الطابور والفرق",
    subscribe: "اشترك",
    renew: "جدّد",
    packs_title: "باقات الشحن",
    never_expire: "الرصيد لا ينتهي",
    buy: "اشترِ",
    pay_knet: "كي نت",
    pay_card: "بطاقة",
    history_title: "سجل المدفوعات",
    no_payments: "لا توجد مدفوعات بعد.",
    date_col: "التاريخ",
    item_col: "البند",
    amount_col: "المبلغ",
    status_col: "الحالة",
    invoice_col: "الفاتورة",
    order_pending: "قيد الانتظار",
    order_paid: "مدفوع",
    order_failed: "فشل",
    order_canceled: "أُلغي",
    order_mismatch: "قيد المراجعة",
    test_banner: "دفعة تجريبية — هذه بوابة الاختبار المحلية. لا تُحوَّل أي أموال ولا تُطلب بطاقة.",
    test_pay_title: "دفعة تجريبية",
    test_pay_ok: "ادفع (تجريبي)",
    test_pay_fail: "أفشل الدفعة (تجريبي)",
    result_paid: "تم تأكيد الدفع. رصيدك جاهز.",
    result_failed: "لم تتم عملية الدفع. لم يُخصم أي مبلغ ولم يتغير شيء. يمكنك المحاولة مرة أخرى.",
    result_canceled: "أُلغيت عملية الدفع. لم يتغير شيء.",
    result_pending: "نقوم بتأكيد دفعتك. ستتحدث هذه الصفحة تلقائياً، ويمكنك العودة لاحقاً.",
    result_mismatch: "لم نتمكن من مطابقة هذه الدفعة مع طلبك. سيراجعها فريقنا؛ لن يُخصم أي مبلغ مرتين.",
    try_again: "حاول مرة أخرى",
    to_dashboard: "انتقل إلى لوحة التحكم",
    back_to_billing: "العودة إلى الفوترة",
    admin_orders: "الطلبات",
    account_col: "الحساب",
    mark_paid: "تعليم كمدفوع",
    reason: "السبب",
    reason_hint: "ما تحققت منه مع ماي فاتورة (يُحفظ في السجل)",
    admin_notifications: "الإشعارات",
    to_col: "إلى",
    kind_col: "الرسالة",
    attempts_col: "المحاولات",
    last_error_col: "آخر خطأ",
    resend: "إعادة الإرسال",
    previous: "السابق",
    next: "التالي",
    err_payment_unavailable: "تعذّر بدء عملية الدفع. حاول مرة أخرى بعد قليل.",
    err_conflict: "لا يمكن تنفيذ ذلك في الحالة الحالية.",
    err_forbidden: "هذا الإجراء للمسؤولين فقط.",
    err_phone_country: "التسجيل غير متاح بعد لأرقام الهواتف من هذه الدولة.",
    err_too_many_requests: "طلبات كثيرة. حاول مرة أخرى بعد ساعة.",
    err_payments_disabled: "الدفع الإلكتروني غير متاح بعد. تواصل معنا لشراء باقة أو رصيد.",
    payments_unavailable: "الدفع الإلكتروني غير متاح بعد: لا يمكن شراء الباقات أو الرصيد من هنا حالياً. تواصل معنا.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_is_the_default_unless_english_is_preferred() {
        assert_eq!(Lang::from_accept_language(""), Lang::Ar);
        assert_eq!(Lang::from_accept_language("fr-FR,fr;q=0.9"), Lang::Ar);
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("ar-KW,ar;q=0.9,en;q=0.8"),
            Lang::Ar
        );
        assert_eq!(Lang::from_accept_language("en;q=0.5,ar;q=0.4"), Lang::En);
    }

    #[test]
    fn numbers_use_the_locale_digits() {
        assert_eq!(fmt_int(Lang::En, 1234567), "1,234,567");
        assert_eq!(fmt_int(Lang::Ar, 5000), "٥٬٠٠٠");
        assert_eq!(fmt_int(Lang::En, -20), "-20");
    }

    #[test]
    fn times_are_shown_in_kuwait() {
        // 2026-11-25T21:30:00Z is 00:30 on the 26th in Kuwait.
        assert_eq!(fmt_kuwait_time(1_795_642_200), "2026-11-26 00:30");
    }
}
