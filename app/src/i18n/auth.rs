//! Registration and login.
texts! {
    /// Registration and login.
    pub struct Auth {
        register_title {
            ar: "أنشئ حسابك",
            en: "Create your account",
        }
        email {
            ar: "البريد الإلكتروني",
            en: "Email",
        }
        phone {
            ar: "رقم الهاتف",
            en: "Phone",
        }
        phone_hint {
            ar: "بالصيغة الدولية، مثل \u{2066}+965 5001 2345\u{2069}",
            en: "International format, e.g. +965 5001 2345",
        }
        password {
            ar: "كلمة المرور",
            en: "Password",
        }
        password_hint {
            ar: "٨ أحرف على الأقل",
            en: "At least 8 characters",
        }
        working {
            ar: "يرجى الانتظار…",
            en: "Please wait…",
        }
        register_submit {
            ar: "إنشاء الحساب",
            en: "Create account",
        }
        have_account {
            ar: "لديك حساب؟ سجّل الدخول",
            en: "Already have an account? Log in",
        }
        login_title {
            ar: "تسجيل الدخول",
            en: "Log in",
        }
        login_submit {
            ar: "دخول",
            en: "Log in",
        }
        forgot_link {
            ar: "نسيت كلمة المرور؟",
            en: "Forgot your password?",
        }
        no_account {
            ar: "جديد هنا؟ أنشئ حساباً",
            en: "New here? Create an account",
        }
    }
}
