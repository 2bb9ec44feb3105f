//! The landing page and the "not found" page.
texts! {
    /// The landing page and the "not found" page.
    pub struct Landing {
        tagline {
            ar: "نماذج لغوية خاصة لشركات الخليج",
            en: "Private LLMs for Gulf businesses",
        }
        hero_title {
            ar: "نماذج لغوية سريعة وخاصة، بالدينار الكويتي",
            en: "Fast, private language models, billed in KWD",
        }
        hero_body {
            ar: "واجهة برمجية متوافقة مع OpenAI على خوادم GPU في المنطقة مع تحويل تلقائي إلى السحابة. ادفع عبر كي نت أو البطاقة، واستلم التنبيهات على واتساب، واستخدم مكتبات OpenAI التي تعرفها.",
            en: "An OpenAI-compatible API on GPU servers in the region, with cloud failover. Pay with KNET or card, get WhatsApp alerts, and keep using the OpenAI SDKs you already know.",
        }
        hero_cta {
            ar: "أنشئ حسابك مجاناً",
            en: "Create your free account",
        }
        not_found_title {
            ar: "الصفحة غير موجودة",
            en: "Page not found",
        }
        not_found_body {
            ar: "الصفحة التي طلبتها غير موجودة.",
            en: "The page you asked for does not exist.",
        }
        back_home {
            ar: "العودة إلى الصفحة الرئيسية",
            en: "Back to the home page",
        }
    }
}
