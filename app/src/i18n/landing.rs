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
        meta_title {
            ar: "رسائل — نماذج لغوية خاصة بواجهة متوافقة مع OpenAI، بالدينار الكويتي",
            en: "Resayil — private LLMs with an OpenAI-compatible API, billed in KWD",
        }
        meta_description {
            ar: "واجهة برمجية متوافقة مع OpenAI لنماذج لغوية على خوادم GPU في المنطقة مع تحويل تلقائي إلى السحابة. خطط ورصيد بالدينار الكويتي، الدفع عبر كي نت والبطاقات.",
            en: "An OpenAI-compatible API for language models on GPU servers in the region, with cloud failover. Plans and credits in KWD, paid with KNET or card.",
        }
        go_dashboard {
            ar: "اذهب إلى لوحة التحكم",
            en: "Go to dashboard",
        }
        read_docs {
            ar: "اقرأ التوثيق",
            en: "Read the docs",
        }
        welcome_note {
            ar: "رصيد ترحيبي عند التسجيل:",
            en: "Welcome credits on registration:",
        }
        how_title {
            ar: "كيف يعمل",
            en: "How it works",
        }
        step1_title {
            ar: "أنشئ حسابك",
            en: "Create your account",
        }
        step1_body {
            ar: "بالبريد الإلكتروني ورقم الهاتف، واحصل على رصيد ترحيبي للتجربة.",
            en: "With your email and phone number, and get welcome credits to try it.",
        }
        step2_title {
            ar: "أنشئ مفتاحاً",
            en: "Create a key",
        }
        step2_body {
            ar: "من صفحة المفاتيح. يظهر المفتاح مرة واحدة، ويمكنك إلغاؤه في أي وقت.",
            en: "On the keys page. It is shown once, and you can revoke it at any time.",
        }
        step3_title {
            ar: "وجّه مكتبتك إلينا",
            en: "Point your SDK at us",
        }
        step3_body {
            ar: "غيّر عنوان الخادم فقط في مكتبات OpenAI أو LangChain أو curl، والباقي كما هو.",
            en: "Change only the base URL in the OpenAI SDKs, LangChain or curl; the rest stays the same.",
        }
        step4_title {
            ar: "ادفع حسب استخدامك",
            en: "Pay for what you use",
        }
        step4_body {
            ar: "كل طلب يُخصم من رصيدك حسب عدد الرموز. اشترك في خطة أو اشحن رصيدك عبر كي نت أو البطاقة.",
            en: "Each request is charged from your credits by its tokens. Subscribe to a plan or top up with KNET or card.",
        }
        pricing_title {
            ar: "الأسعار",
            en: "Pricing",
        }
        pricing_intro {
            ar: "الأسعار بالدينار الكويتي. الخطة تمنح رصيداً وحدوداً ونماذج لمدة محددة؛ وباقات الشحن رصيد إضافي لا تنتهي صلاحيته.",
            en: "Prices in Kuwaiti dinars. A plan gives credits, limits and models for a period; top-up packs add credits that never expire.",
        }
        days {
            ar: "يوماً",
            en: "days",
        }
        per {
            ar: "لكل",
            en: "per",
        }
        credits_included {
            ar: "رصيد مشمول",
            en: "credits included",
        }
        rpm {
            ar: "طلباً في الدقيقة",
            en: "requests per minute",
        }
        concurrent {
            ar: "طلبات متزامنة",
            en: "requests at once",
        }
        keys_max {
            ar: "مفاتيح كحد أقصى",
            en: "keys at most",
        }
        models_title {
            ar: "النماذج",
            en: "Models",
        }
        multiplier_hint {
            ar: "الرقم بعد × هو الرصيد لكل ١٠٠٠ رمز.",
            en: "The number after × is the credits per 1,000 tokens.",
        }
        local {
            ar: "محلي",
            en: "local",
        }
        cloud {
            ar: "سحابي",
            en: "cloud",
        }
        embedding {
            ar: "تضمين",
            en: "embedding",
        }
        packs_title {
            ar: "باقات الشحن",
            en: "Top-up packs",
        }
        credits {
            ar: "رصيد",
            en: "credits",
        }
        never_expire {
            ar: "لا تنتهي صلاحيتها",
            en: "never expire",
        }
        code_title {
            ar: "أمثلة برمجية",
            en: "Code examples",
        }
        code_intro {
            ar: "ضع مفتاحك في المتغير RESAYIL_API_KEY. هذه الأمثلة تستخدم عنوان هذا الخادم:",
            en: "Put your key in RESAYIL_API_KEY. These examples use this server's address:",
        }
        copy {
            ar: "نسخ",
            en: "Copy",
        }
        copied {
            ar: "تم النسخ",
            en: "Copied",
        }
        faq_title {
            ar: "أسئلة شائعة",
            en: "Questions",
        }
        faq_pay_q {
            ar: "كيف أدفع؟",
            en: "How do I pay?",
        }
        faq_pay_a {
            ar: "بالدينار الكويتي عبر ماي فاتورة: كي نت أو بطاقات الائتمان والخصم. يُضاف الرصيد بعد أن تؤكد ماي فاتورة الدفع.",
            en: "In Kuwaiti dinars through MyFatoorah: KNET or credit and debit cards. Credits are added once MyFatoorah confirms the payment.",
        }
        faq_credit_q {
            ar: "ما هو الرصيد؟",
            en: "What is a credit?",
        }
        faq_credit_a {
            ar: "كل طلب يكلّف (عدد الرموز × معامل النموذج ÷ ١٠٠٠) مقرّباً للأعلى، وبحد أدنى رصيد واحد. معامل النماذج المحلية أقل من السحابية. الطلب الذي يفشل قبل أي إجابة لا يكلّف شيئاً.",
            en: "Each request costs (tokens × the model's multiplier ÷ 1000), rounded up, at least 1 credit. Local models have a lower multiplier than cloud ones. A request that fails before any answer costs nothing.",
        }
        faq_data_q {
            ar: "ماذا تفعلون ببياناتي؟",
            en: "What happens to my data?",
        }
        faq_data_a {
            ar: "النماذج المحلية تعمل على خوادمنا. نسجّل لكل طلب بيانات الفوترة فقط: النموذج وعدد الرموز والرصيد والمدة والحالة، لا نص الطلب ولا الإجابة. النماذج المعلّمة «سحابي» — وطلبات النماذج المحلية عند الازدحام — تُرسل إلى مزوّد سحابي.",
            en: "Local models run on our servers. For each request we record billing data only: model, tokens, credits, latency and status — not the prompt or the answer. Models marked \"cloud\" — and local requests at busy times — are sent to a cloud provider.",
        }
        faq_compat_q {
            ar: "هل تعمل مكتباتي الحالية؟",
            en: "Will my existing tools work?",
        }
        faq_compat_a {
            ar: "نعم: مكتبات OpenAI الرسمية لبايثون وجافاسكربت وLangChain وcurl، بتغيير عنوان الخادم والمفتاح فقط. المسارات: المحادثة (مع البث) والنماذج والتضمين.",
            en: "Yes: the official OpenAI Python and JavaScript SDKs, LangChain and curl, changing only the base URL and key. Routes: chat completions (with streaming), models and embeddings.",
        }
        footer_docs {
            ar: "التوثيق",
            en: "Docs",
        }
        footer_spec {
            ar: "مواصفات OpenAPI",
            en: "OpenAPI spec",
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
