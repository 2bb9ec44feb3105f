//! The dashboard.
texts! {
    /// The dashboard.
    pub struct Dashboard {
        welcome {
            ar: "مرحباً، ",
            en: "Welcome, ",
        }
        top_up {
            ar: "اشحن رصيدك",
            en: "Top up credits",
        }
        balance {
            ar: "رصيدك الحالي",
            en: "Credit balance",
        }
        plan {
            ar: "الباقة",
            en: "Plan",
        }
        no_plan {
            ar: "لا توجد باقة فعالة (حدود الباقة الأساسية)",
            en: "No active plan (Basic limits)",
        }
        playground {
            ar: "جرّب النماذج",
            en: "Try the models",
        }
        manage_keys {
            ar: "إدارة مفاتيح API",
            en: "Manage API keys",
        }
    }
}
