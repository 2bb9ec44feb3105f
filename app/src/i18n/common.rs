//! Texts every area shows: the brand, loading, credits, plan names, shared column titles and the explanation of every error code.
texts! {
    /// Texts every area shows: the brand, loading, credits, plan names, shared column titles and the explanation of every error code.
    pub struct Common {
        brand {
            ar: "رسائل LLM",
            en: "Resayil LLM",
        }
        loading {
            ar: "جارٍ التحميل…",
            en: "Loading…",
        }
        credits {
            ar: "رصيد",
            en: "credits",
        }
        expires {
            ar: "تتجدد أو تنتهي في",
            en: "Renews or expires on",
        }
        plan_basic {
            ar: "الأساسية",
            en: "Basic",
        }
        plan_pro {
            ar: "الاحترافية",
            en: "Pro",
        }
        plan_enterprise {
            ar: "المؤسسات",
            en: "Enterprise",
        }
        date_col {
            ar: "التاريخ",
            en: "Date",
        }
        status_col {
            ar: "الحالة",
            en: "Status",
        }
        nav_admin {
            ar: "الإدارة",
            en: "Admin",
        }
        nav_keys {
            ar: "مفاتيح API",
            en: "API keys",
        }
        err_required {
            ar: "هذا الحقل مطلوب.",
            en: "This field is required.",
        }
        err_too_long {
            ar: "القيمة طويلة جداً.",
            en: "This is too long.",
        }
        err_invalid_email {
            ar: "أدخل بريداً إلكترونياً صحيحاً.",
            en: "Enter a valid email address.",
        }
        err_invalid_phone {
            ar: "أدخل الرقم بالصيغة الدولية؛ أرقام الكويت تبدأ بـ \u{2066}+965\u{2069} وتليها ٨ أرقام.",
            en: "Enter the number in international format; Kuwait numbers are +965 and 8 digits.",
        }
        err_password_short {
            ar: "يجب أن تتكون كلمة المرور من ٨ أحرف على الأقل.",
            en: "The password must have at least 8 characters.",
        }
        err_email_taken {
            ar: "يوجد حساب بهذا البريد الإلكتروني.",
            en: "An account with this email already exists.",
        }
        err_phone_taken {
            ar: "يوجد حساب بهذا الرقم.",
            en: "An account with this phone number already exists.",
        }
        err_credentials {
            ar: "البريد الإلكتروني أو كلمة المرور غير صحيحة.",
            en: "Wrong email or password.",
        }
        err_too_many {
            ar: "محاولات فاشلة كثيرة. حاول مرة أخرى بعد ١٥ دقيقة.",
            en: "Too many failed attempts. Try again in 15 minutes.",
        }
        err_key_limit {
            ar: "وصلت إلى الحد الأقصى للمفاتيح في باقتك. احذف مفتاحاً أولاً.",
            en: "Your plan's key limit is reached. Delete a key first.",
        }
        err_unauthorized {
            ar: "يرجى تسجيل الدخول مرة أخرى.",
            en: "Please log in again.",
        }
        err_not_found {
            ar: "غير موجود.",
            en: "Not found.",
        }
        err_server {
            ar: "حدث خطأ من جهتنا. حاول مرة أخرى.",
            en: "Something went wrong on our side. Please try again.",
        }
        err_payment_unavailable {
            ar: "تعذّر بدء عملية الدفع. حاول مرة أخرى بعد قليل.",
            en: "The payment could not be started. Please try again in a moment.",
        }
        err_conflict {
            ar: "لا يمكن تنفيذ ذلك في الحالة الحالية.",
            en: "This cannot be done in the current state.",
        }
        err_forbidden {
            ar: "هذا الإجراء للمسؤولين فقط.",
            en: "Only administrators can do this.",
        }
        err_phone_country {
            ar: "التسجيل غير متاح بعد لأرقام الهواتف من هذه الدولة.",
            en: "Registration is not open to phone numbers from this country yet.",
        }
        err_too_many_requests {
            ar: "طلبات كثيرة. حاول مرة أخرى بعد ساعة.",
            en: "Too many requests. Please try again in an hour.",
        }
        err_account_suspended {
            ar: "هذا الحساب موقوف. تواصل مع الدعم.",
            en: "This account is suspended. Please contact support.",
        }
        err_not_an_integer {
            ar: "أدخل عدداً صحيحاً، مثل ‎+500 أو ‎-200.",
            en: "Enter a whole number, such as +500 or -200.",
        }
        err_below_zero {
            ar: "لا يمكن أن يصبح الرصيد أقل من صفر.",
            en: "The balance cannot go below zero.",
        }
        err_not_positive {
            ar: "أدخل رقماً أكبر من صفر وضمن الحدود.",
            en: "Enter a number greater than zero, within the limits.",
        }
        err_unknown_model {
            ar: "لا يوجد نموذج بهذا الاسم في الكتالوج.",
            en: "There is no such model in the catalog.",
        }
        err_model_restricted {
            ar: "هذا النموذج مقيّد ولا يمكن تفعيله أبداً.",
            en: "This model is restricted and can never be enabled.",
        }
        err_payments_disabled {
            ar: "الدفع الإلكتروني غير متاح بعد. تواصل معنا لشراء باقة أو رصيد.",
            en: "Online payments are not available yet. Please contact us to buy a plan or credits.",
        }
        err_invalid_code {
            ar: "الرمز غير صحيح أو لم يعد صالحاً. تحقق منه، أو اطلب رمزاً جديداً.",
            en: "That code is wrong or no longer valid. Check it, or ask for a new code.",
        }
        err_code_expired {
            ar: "انتهت صلاحية هذا الرمز أو استُخدم أو تجاوز ٥ محاولات. اطلب رمزاً جديداً.",
            en: "This code has expired, was already used or had 5 wrong tries. Ask for a new code.",
        }
        err_team_plan {
            ar: "الفرق متاحة لباقة المؤسسات الفعّالة فقط.",
            en: "Teams need an active Enterprise plan.",
        }
        err_already_in_team {
            ar: "هذا الحساب عضو في فريق بالفعل.",
            en: "This account is already in a team.",
        }
        err_team_owner {
            ar: "لا يمكن دعوة مالك الفريق أو إزالته، ولا يمكنه المغادرة.",
            en: "The team owner cannot be invited, removed or leave.",
        }
        err_already_invited {
            ar: "لهذا البريد دعوة قائمة إلى الفريق.",
            en: "This address already has a pending invitation.",
        }
        err_invitation_expired {
            ar: "انتهت صلاحية هذه الدعوة (٧ أيام). اطلب دعوة جديدة.",
            en: "This invitation has expired (7 days). Ask for a new one.",
        }
        err_invitation_closed {
            ar: "هذه الدعوة لم تعد قائمة (قُبلت أو رُفضت أو سُحبت).",
            en: "This invitation is no longer open (accepted, declined or withdrawn).",
        }
        err_invalid_invite_code {
            ar: "رمز الدعوة غير صالح لهذا الحساب. انسخ الرمز أو الرابط كاملاً، وتأكد أنك سجّلت الدخول بالبريد الذي دُعي.",
            en: "That invitation code is not valid for this account. Copy the whole code or link, and check you are signed in with the invited email address.",
        }
        err_too_many_invite_codes {
            ar: "محاولات كثيرة لرموز الدعوة. حاول مرة أخرى بعد ساعة.",
            en: "Too many invitation code attempts. Please try again in an hour.",
        }
    }
}
