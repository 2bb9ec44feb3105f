//! The API documentation page (`/docs`).
texts! {
    /// The API documentation page (`/docs`).
    pub struct Docs {
        meta_title {
            ar: "توثيق واجهة رسائل البرمجية — متوافقة مع OpenAI",
            en: "Resayil API docs — OpenAI-compatible",
        }
        meta_description {
            ar: "البدء السريع، المصادقة، النماذج والخطط، تسعير الطلبات، البث، الأخطاء، حدود الطلبات، التحويل إلى السحابة، والمكتبات المتوافقة لواجهة رسائل.",
            en: "Quickstart, authentication, models and plans, request pricing, streaming, errors, rate limits, cloud failover and compatible SDKs of the Resayil API.",
        }
        title {
            ar: "توثيق الواجهة البرمجية",
            en: "API documentation",
        }
        intro {
            ar: "واجهة رسائل متوافقة مع OpenAI: أي مكتبة OpenAI تعمل بتغيير عنوان الخادم والمفتاح. المواصفات الآلية (OpenAPI 3.1):",
            en: "The Resayil API is OpenAI-compatible: any OpenAI SDK works by changing the base URL and the key. Machine-readable spec (OpenAPI 3.1):",
        }
        contents {
            ar: "المحتويات",
            en: "Contents",
        }
        quickstart {
            ar: "البدء السريع",
            en: "Quickstart",
        }
        qs_1 {
            ar: "أنشئ حساباً (تحصل على رصيد ترحيبي).",
            en: "Create an account (you get welcome credits).",
        }
        qs_2 {
            ar: "أنشئ مفتاحاً في صفحة المفاتيح وانسخه: يظهر مرة واحدة فقط.",
            en: "Create a key on the keys page and copy it: it is shown only once.",
        }
        qs_3 {
            ar: "ضعه في المتغير RESAYIL_API_KEY ونفّذ أحد الأمثلة:",
            en: "Put it in RESAYIL_API_KEY and run one of these:",
        }
        auth {
            ar: "المصادقة",
            en: "Authentication",
        }
        auth_body {
            ar: "أرسل المفتاح في الترويسة Authorization: Bearer rsl_… مع كل طلب. نحفظ بصمة المفتاح فقط، لذا لا يمكن عرضه مرة أخرى؛ إلغاء المفتاح فوري. الطلبات بمفتاح مفقود أو خاطئ تُرفض بـ 401، والعنوان الذي يكرر ذلك كثيراً يُحدّ مؤقتاً بـ 429.",
            en: "Send the key in the Authorization: Bearer rsl_… header of every request. Only a hash of the key is stored, so it cannot be shown again; revoking a key takes effect at once. A missing or wrong key is refused with 401, and an address that keeps trying is limited for a while with 429.",
        }
        models {
            ar: "النماذج والخطط",
            en: "Models and plans",
        }
        models_body {
            ar: "كل خطة تشمل نماذجها ونماذج الخطط الأدنى. GET /v1/models يعرض ما تسمح به خطة مفتاحك فقط. نموذج من خطة أعلى يُرفض بـ 403 مع اسم الخطة المطلوبة، ونموذج غير موجود بـ 404. الحساب بلا خطة فعّالة يعمل بحدود ونماذج الخطة الأساسية.",
            en: "Each plan includes its models and those of the lower plans. GET /v1/models lists only what your key's plan allows. A model of a higher plan is refused with 403 naming the plan that unlocks it; an unknown model with 404. An account without an active plan gets the Basic plan's limits and models.",
        }
        pricing {
            ar: "الرصيد وتسعير الطلب",
            en: "Credits and how a request is priced",
        }
        pricing_formula {
            ar: "تكلفة الطلب = ⌈ مجموع الرموز × معامل النموذج ÷ ١٠٠٠ ⌉ رصيد، وبحد أدنى ١. المعامل هو معامل النموذج المطلوب، حتى لو خدمه نموذج سحابي بديل.",
            en: "A request costs ⌈ total tokens × the model's multiplier ÷ 1000 ⌉ credits, at least 1. The multiplier is the requested model's, even when its cloud fallback served it.",
        }
        pricing_reserve {
            ar: "قبل إرسال الطلب نحجز تقديراً: رمز لكل ٤ بايت من نص الطلب، زائد max_tokens (أو الافتراضي إن لم يُحدد). إن لم يكفِ رصيدك يُرفض الطلب بـ 402. بعد الإجابة يُحسب الاستخدام الفعلي ويُعاد الفرق.",
            en: "Before the request is sent we reserve an estimate: one token per 4 bytes of the body, plus max_tokens (or the default when unset). If your balance cannot cover it the request is refused with 402. After the answer the actual usage is charged and the rest released.",
        }
        default_max_tokens {
            ar: "max_tokens الافتراضي للحجز:",
            en: "Default max_tokens for the reservation:",
        }
        pricing_endings {
            ar: "طلب يفشل قبل أي إجابة (رفض، ازدحام، خطأ في الخادم) لا يكلّف شيئاً. بث انقطع أو عميل أغلق الاتصال يُحسب بما وصله فعلاً. max_tokens أكبر مما يسمح به النموذج يُرفض بـ 400 قبل أي حجز.",
            en: "A request that fails before any output (refused, busy, upstream error) costs nothing. A broken stream or a client that hangs up is charged for what it actually received. A max_tokens above the model's limit is refused with 400 before anything is reserved.",
        }
        streaming {
            ar: "البث",
            en: "Streaming",
        }
        streaming_body {
            ar: "مع \"stream\": true تصل الإجابة كأحداث SSE (text/event-stream)، كل سطر data: قطعة JSON، وتنتهي بـ data: [DONE]. أضف \"stream_options\": {\"include_usage\": true} لتصلك قطعة أخيرة فيها الاستخدام.",
            en: "With \"stream\": true the answer arrives as server-sent events (text/event-stream): each data: line is a JSON chunk, ending with data: [DONE]. Add \"stream_options\": {\"include_usage\": true} to get a last chunk with the usage.",
        }
        errors {
            ar: "الأخطاء",
            en: "Errors",
        }
        errors_body {
            ar: "كل خطأ بصيغة OpenAI: {\"error\": {\"message\", \"type\", \"param\", \"code\"}}، مع top_up_url في 402. مكتبات OpenAI تعيد المحاولة تلقائياً عند 429 و5xx وتحترم retry-after، ولا تعيد عند x-should-retry: false.",
            en: "Every error has OpenAI's shape: {\"error\": {\"message\", \"type\", \"param\", \"code\"}}, plus top_up_url on 402. The OpenAI SDKs retry 429 and 5xx by themselves, honouring retry-after, and do not retry when x-should-retry: false.",
        }
        col_status {
            ar: "الحالة",
            en: "Status",
        }
        col_code {
            ar: "code",
            en: "code",
        }
        col_when {
            ar: "متى",
            en: "When",
        }
        col_todo {
            ar: "ماذا تفعل",
            en: "What to do",
        }
        e400_when {
            ar: "حقل ناقص أو غير صالح (param يسمّيه)، أو نص ليس JSON",
            en: "A field is missing or invalid (param names it), or the body is not JSON",
        }
        e400_todo {
            ar: "صحّح الطلب؛ لا تُعِد إرساله كما هو",
            en: "Fix the request; do not resend it unchanged",
        }
        e400b_when {
            ar: "مفتاح مكرر في JSON، أو مفتاحان يختلفان في حالة الأحرف فقط",
            en: "A key appears twice in one JSON object, or two keys differ only in letter case",
        }
        e400b_todo {
            ar: "أرسل كل مفتاح مرة واحدة وبالحالة الصحيحة",
            en: "Send each key once, spelled in its exact case",
        }
        e400c_when {
            ar: "max_tokens أكبر من حد النموذج",
            en: "max_tokens above the model's limit",
        }
        e400c_todo {
            ar: "اطلب عدداً أقل (الرسالة تذكر الحد)",
            en: "Ask for fewer (the message gives the limit)",
        }
        e401_when {
            ar: "مفتاح مفقود أو خاطئ أو ملغى",
            en: "Missing, wrong or revoked key",
        }
        e401_todo {
            ar: "تحقق من الترويسة Authorization أو أنشئ مفتاحاً جديداً",
            en: "Check the Authorization header or create a new key",
        }
        e402_when {
            ar: "الرصيد لا يكفي لحجز الطلب",
            en: "Your balance cannot cover the request's reservation",
        }
        e402_todo {
            ar: "اشحن رصيدك من top_up_url أو قلّل max_tokens",
            en: "Top up at top_up_url, or lower max_tokens",
        }
        e403_when {
            ar: "النموذج متاح في خطة أعلى",
            en: "The model needs a higher plan",
        }
        e403_todo {
            ar: "رقِّ خطتك أو اختر نموذجاً من GET /v1/models",
            en: "Upgrade, or pick a model from GET /v1/models",
        }
        e404_when {
            ar: "نموذج غير موجود",
            en: "No such model",
        }
        e404_todo {
            ar: "استخدم اسماً من GET /v1/models",
            en: "Use an id from GET /v1/models",
        }
        e404b_when {
            ar: "مسار غير معروف",
            en: "Unknown path",
        }
        e404b_todo {
            ar: "راجع المسار وعنوان الخادم (ينتهي بـ /v1)",
            en: "Check the path and the base URL (it ends in /v1)",
        }
        e408_when {
            ar: "لم يصل نص الطلب في الوقت المحدد",
            en: "The request body did not arrive in time",
        }
        e408_todo {
            ar: "أعد المحاولة على اتصال أسرع",
            en: "Retry on a faster connection",
        }
        e413_when {
            ar: "نص الطلب أكبر من الحد",
            en: "The body is larger than the limit",
        }
        e413_todo {
            ar: "قلّل الرسائل المرسلة",
            en: "Send less context",
        }
        e429_when {
            ar: "تجاوزت عدد الطلبات في الدقيقة لخطتك",
            en: "Your plan's requests per minute are used up",
        }
        e429_todo {
            ar: "انتظر retry-after ثانية",
            en: "Wait retry-after seconds",
        }
        e429b_when {
            ar: "طلبات مفتوحة في آن واحد أكثر مما تسمح خطتك",
            en: "More requests open at once than your plan allows",
        }
        e429b_todo {
            ar: "انتظر انتهاء طلب ثم أعد المحاولة",
            en: "Wait for one to finish, then retry",
        }
        e500_when {
            ar: "خطأ لدينا",
            en: "Our error",
        }
        e500_todo {
            ar: "أعد المحاولة لاحقاً، وأرسل لنا x-request-id إن تكرر",
            en: "Retry later; send us the x-request-id if it persists",
        }
        e502_when {
            ar: "خادم النموذج فشل أو أجاب بصيغة غير متوقعة؛ لا يُخصم شيء",
            en: "The model server failed or answered in an unexpected format; nothing is charged",
        }
        e502_todo {
            ar: "أعد المحاولة",
            en: "Retry",
        }
        e503a_when {
            ar: "النماذج مشغولة (قائمة الانتظار ممتلئة أو انتهت مهلتها)",
            en: "The models are busy (the wait queue is full or timed out)",
        }
        e503b_when {
            ar: "خادم النموذج غير متاح؛ لا يُخصم شيء",
            en: "The model server is unreachable; nothing is charged",
        }
        e503_todo {
            ar: "أعد المحاولة بعد retry-after",
            en: "Retry after retry-after",
        }
        e503c_when {
            ar: "بلغت النماذج السحابية حدها اليومي (حتى منتصف الليل بتوقيت الكويت)",
            en: "Cloud models reached today's cap (until midnight Asia/Kuwait)",
        }
        e503c_todo {
            ar: "استخدم نموذجاً محلياً أو انتظر اليوم التالي",
            en: "Use a local model or wait for the next day",
        }
        e503d_when {
            ar: "النماذج السحابية غير مفعّلة على هذا الخادم",
            en: "Cloud models are not enabled on this server",
        }
        e503d_todo {
            ar: "استخدم نموذجاً محلياً",
            en: "Use a local model",
        }
        eup_when {
            ar: "خطأ آخر من خادم النموذج، بحالته ورسالته",
            en: "Another error of the model server, with its status and message",
        }
        eup_todo {
            ar: "اقرأ الرسالة وصحّح الطلب",
            en: "Read the message and fix the request",
        }
        limits {
            ar: "حدود الطلبات والترويسات",
            en: "Rate limits and headers",
        }
        limits_body {
            ar: "لكل خطة عدد طلبات في الدقيقة وعدد طلبات مفتوحة في آن واحد (الجدول أدناه). كل إجابة تحمل:",
            en: "Each plan has requests per minute and requests open at once (table below). Every answer carries:",
        }
        h_request_id {
            ar: "معرّف الطلب؛ أرسله لنا عند السؤال عن طلب",
            en: "The request's id; quote it when asking about a request",
        }
        h_limit {
            ar: "طلبات الدقيقة المسموحة لخطتك",
            en: "Requests per minute your plan allows",
        }
        h_remaining {
            ar: "الطلبات المتبقية في النافذة الحالية",
            en: "Requests left in the current window",
        }
        h_reset {
            ar: "الثواني حتى تتجدد النافذة",
            en: "Seconds until the window resets",
        }
        h_retry {
            ar: "في 429 و503: الثواني قبل إعادة المحاولة",
            en: "On 429 and 503: seconds to wait before retrying",
        }
        h_should_retry {
            ar: "false عندما لن يفيد الانتظار (402، الحد السحابي)",
            en: "false when waiting will not help (402, cloud cap)",
        }
        col_plan {
            ar: "الخطة",
            en: "Plan",
        }
        col_rpm {
            ar: "طلبات/دقيقة",
            en: "Requests/min",
        }
        col_open {
            ar: "طلبات متزامنة",
            en: "At once",
        }
        failover {
            ar: "التحويل إلى السحابة والحد السحابي",
            en: "Failover and the cloud cap",
        }
        failover_body {
            ar: "النماذج المحلية تعمل على خوادم GPU لدينا. عندما يزيد طابور نموذج محلي عن حدّه يُخدم الطلب من نموذج سحابي بديل، ويُحسب بسعر النموذج الذي طلبته. للطلبات السحابية حد يومي مشترك يتجدد عند منتصف الليل بتوقيت الكويت؛ عند بلوغه تتوقف النماذج السحابية (503 cloud_budget_exhausted) وتنتظر الطلبات المحلية مكاناً بدل التحويل، بالأولوية: المؤسسات ثم الاحترافية ثم الأساسية.",
            en: "Local models run on our GPU servers. When a local model's queue is deeper than its limit, the request is served by a cloud fallback and billed at the rate of the model you asked for. Cloud requests share a daily cap that resets at midnight Asia/Kuwait; at the cap cloud models stop (503 cloud_budget_exhausted) and local requests wait for a free place instead of failing over, Enterprise first, then Pro, then Basic.",
        }
        cloud_cap {
            ar: "الحد السحابي اليومي (طلبات):",
            en: "Daily cloud cap (requests):",
        }
        failover_depth {
            ar: "عمق الطابور قبل التحويل:",
            en: "Queue depth before failover:",
        }
        wait_timeout {
            ar: "أقصى انتظار (ثوانٍ):",
            en: "Longest wait (seconds):",
        }
        sdks {
            ar: "المكتبات والأدوات المتوافقة",
            en: "SDKs and tools known to work",
        }
        sdks_body {
            ar: "مكتبة OpenAI الرسمية لبايثون (تستخدمها اختباراتنا)، ومكتبة OpenAI لجافاسكربت، وLangChain (ChatOpenAI)، وcurl. المسارات: POST /v1/chat/completions، POST /v1/embeddings، GET /v1/models، GET /v1/models/{id}.",
            en: "The official OpenAI Python SDK (used by this server's tests), the OpenAI JavaScript SDK, LangChain (ChatOpenAI) and curl. Routes: POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models, GET /v1/models/{id}.",
        }
        max_body {
            ar: "الحد الأقصى لنص الطلب (بايت):",
            en: "Largest request body (bytes):",
        }
    }
}
