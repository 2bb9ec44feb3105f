//! The site header: navigation, language switch, logout.
texts! {
    /// The site header: navigation, language switch, logout.
    pub struct Header {
        nav_dashboard {
            ar: "لوحة التحكم",
            en: "Dashboard",
        }
        nav_playground {
            ar: "ساحة التجربة",
            en: "Playground",
        }
        top_up {
            ar: "اشحن الرصيد",
            en: "Top up",
        }
        nav_billing {
            ar: "الفوترة",
            en: "Billing",
        }
        nav_team {
            ar: "الفريق",
            en: "Team",
        }
        nav_login {
            ar: "تسجيل الدخول",
            en: "Log in",
        }
        nav_register {
            ar: "إنشاء حساب",
            en: "Sign up",
        }
        logout {
            ar: "تسجيل الخروج",
            en: "Log out",
        }
        switch_to {
            ar: "English",
            en: "العربية",
        }
    }
}
