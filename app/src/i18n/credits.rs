//! Credits at a glance (dashboard) and the header's top-up button.
texts! {
    /// Credits at a glance (dashboard) and the header's top-up button.
    pub struct Credits {
        title {
            ar: "رصيدك",
            en: "Your credits",
        }
        remaining {
            ar: "المتبقي",
            en: "Remaining",
        }
        of_total {
            ar: "من",
            en: "of",
        }
        total_hint {
            ar: "الإجمالي: رصيدك بعد آخر منحة أو عملية شراء (الأساس الذي يُحسب منه تنبيه انخفاض الرصيد).",
            en: "Total: your balance right after your last grant or purchase (the base of the low-credit warning).",
        }
        left_label {
            ar: "نسبة الرصيد المتبقي",
            en: "Share of credits left",
        }
        low {
            ar: "رصيدك منخفض: بقي أقل من ٢٠٪. اشحن رصيدك حتى لا تتوقف طلباتك.",
            en: "Your credits are low: less than 20% left. Top up so your requests keep working.",
        }
        empty {
            ar: "نفد رصيدك: الطلبات مرفوضة حتى تشحن رصيدك.",
            en: "You are out of credits: requests are refused until you top up.",
        }
        top_up {
            ar: "اشحن الرصيد",
            en: "Top up",
        }
        plan {
            ar: "الباقة",
            en: "Plan",
        }
        no_plan {
            ar: "لا توجد باقة فعالة (حدود الباقة الأساسية)",
            en: "No active plan (Basic limits)",
        }
        expires_on {
            ar: "تنتهي في",
            en: "Expires on",
        }
        expired_on {
            ar: "انتهت في",
            en: "Expired on",
        }
        kuwait_time {
            ar: "(بتوقيت الكويت)",
            en: "(Kuwait time)",
        }
        change_plan {
            ar: "الباقات",
            en: "Plans",
        }
        keys_title {
            ar: "مفاتيح API",
            en: "API keys",
        }
        manage_keys {
            ar: "إنشاء مفتاح وإدارة المفاتيح",
            en: "Create and manage keys",
        }
        playground {
            ar: "جرّب النماذج",
            en: "Try the models",
        }
    }
}
