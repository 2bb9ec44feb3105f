//! The API keys page.
texts! {
    /// The API keys page.
    pub struct Keys {
        keys_title {
            ar: "مفاتيح API",
            en: "API keys",
        }
        keys_intro {
            ar: "استخدم المفتاح كرمز Bearer مع أي مكتبة OpenAI. يظهر المفتاح مرة واحدة فقط؛ احفظه بسرية.",
            en: "Use a key as a Bearer token with any OpenAI SDK. Keys are shown once; keep them secret.",
        }
        label {
            ar: "الاسم",
            en: "Label",
        }
        label_hint {
            ar: "اسم يميّز المفتاح، مثل production",
            en: "A name to recognise the key, e.g. production",
        }
        create_key {
            ar: "إنشاء مفتاح",
            en: "Create key",
        }
        new_key_title {
            ar: "مفتاحك الجديد",
            en: "Your new key",
        }
        new_key_once {
            ar: "انسخه الآن: لن يظهر مرة أخرى.",
            en: "Copy it now: it will not be shown again.",
        }
        copied {
            ar: "تم النسخ",
            en: "Copied",
        }
        copy {
            ar: "نسخ",
            en: "Copy",
        }
        no_keys {
            ar: "لا توجد مفاتيح بعد.",
            en: "No keys yet.",
        }
        key_col {
            ar: "المفتاح",
            en: "Key",
        }
        created_col {
            ar: "أُنشئ",
            en: "Created",
        }
        last_used_col {
            ar: "آخر استخدام",
            en: "Last used",
        }
        delete {
            ar: "حذف",
            en: "Delete",
        }
        usage_col {
            ar: "آخر ٣٠ يوماً",
            en: "Last 30 days",
        }
        requests {
            ar: "طلب",
            en: "requests",
        }
        credits {
            ar: "رصيد",
            en: "credits",
        }
        manage {
            ar: "إنشاء وإدارة المفاتيح",
            en: "Create and manage keys",
        }
        confirm_delete {
            ar: "حذف المفتاح",
            en: "Delete the key",
        }
        question_mark {
            ar: "؟",
            en: "?",
        }
        confirm_hint {
            ar: "سيُرفض أي طلب به فوراً.",
            en: "Every request with it is refused at once.",
        }
        confirm_yes {
            ar: "نعم، احذف",
            en: "Yes, delete",
        }
        cancel {
            ar: "إلغاء",
            en: "Cancel",
        }
        never {
            ar: "لم يُستخدم",
            en: "Never",
        }
    }
}
