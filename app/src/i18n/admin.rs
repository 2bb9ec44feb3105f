//! The admin pages (orders, notifications).
texts! {
    /// The admin pages (orders, notifications).
    pub struct Admin {
        admin_orders {
            ar: "الطلبات",
            en: "Orders",
        }
        admin_notifications {
            ar: "الإشعارات",
            en: "Notifications",
        }
        previous {
            ar: "السابق",
            en: "Previous",
        }
        next {
            ar: "التالي",
            en: "Next",
        }
        to_col {
            ar: "إلى",
            en: "To",
        }
        kind_col {
            ar: "الرسالة",
            en: "Message",
        }
        attempts_col {
            ar: "المحاولات",
            en: "Attempts",
        }
        last_error_col {
            ar: "آخر خطأ",
            en: "Last error",
        }
        resend {
            ar: "إعادة الإرسال",
            en: "Resend",
        }
    }
}
