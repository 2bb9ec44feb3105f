//! The playground.
texts! {
    /// The playground.
    pub struct Playground {
        title {
            ar: "ساحة التجربة",
            en: "Playground",
        }
        intro {
            ar: "جرّب أي نموذج تتيحه باقتك دون إنشاء مفتاح. تُحسب كل إجابة من رصيدك تماماً كطلبات API.",
            en: "Try any model your plan includes, without creating a key. Every answer is charged to your credits exactly like an API request.",
        }
        model {
            ar: "النموذج",
            en: "Model",
        }
        needs_plan {
            ar: "يتطلب باقة",
            en: "needs the plan",
        }
        max_tokens {
            ar: "أقصى عدد من الرموز في الإجابة",
            en: "Max tokens in the answer",
        }
        message {
            ar: "رسالتك",
            en: "Your message",
        }
        placeholder {
            ar: "اكتب سؤالك هنا…",
            en: "Ask something…",
        }
        send {
            ar: "إرسال",
            en: "Send",
        }
        sending {
            ar: "جارٍ الإرسال…",
            en: "Sending…",
        }
        clear {
            ar: "محادثة جديدة",
            en: "New chat",
        }
        you {
            ar: "أنت",
            en: "You",
        }
        assistant {
            ar: "النموذج",
            en: "Model",
        }
        cost {
            ar: "التكلفة",
            en: "Cost",
        }
        credits {
            ar: "رصيد",
            en: "credits",
        }
        tokens_in {
            ar: "رموز الطلب",
            en: "prompt tokens",
        }
        tokens_out {
            ar: "رموز الإجابة",
            en: "completion tokens",
        }
        balance {
            ar: "رصيدك الآن",
            en: "Balance now",
        }
        cost_pending {
            ar: "جارٍ حساب التكلفة…",
            en: "Working out the cost…",
        }
        code_title {
            ar: "الطلب نفسه من الكود",
            en: "The same request from code",
        }
        code_hint {
            ar: "استبدل المفتاح بمفتاح من صفحة المفاتيح.",
            en: "Replace the key with one from the keys page.",
        }
        empty_input {
            ar: "اكتب رسالة أولاً.",
            en: "Write a message first.",
        }
        err_signed_out {
            ar: "انتهت جلستك. سجّل الدخول مرة أخرى.",
            en: "Your session has ended. Please log in again.",
        }
        err_plan {
            ar: "هذا النموذج غير متاح في باقتك. رقِّ باقتك من صفحة الفوترة لاستخدامه.",
            en: "Your plan does not include this model. Upgrade your plan on the billing page to use it.",
        }
        err_model {
            ar: "هذا النموذج غير موجود.",
            en: "This model does not exist.",
        }
        err_credits {
            ar: "رصيدك لا يكفي لهذا الطلب. اشحن رصيدك ثم حاول مرة أخرى.",
            en: "Your credits do not cover this request. Top up and try again.",
        }
        err_rate {
            ar: "طلبات كثيرة في وقت قصير. انتظر قليلاً ثم حاول مرة أخرى.",
            en: "Too many requests at once. Wait a moment and try again.",
        }
        err_too_large {
            ar: "المحادثة طويلة جداً. ابدأ محادثة جديدة.",
            en: "The conversation is too long. Start a new chat.",
        }
        err_max_tokens {
            ar: "الحد الأقصى للرموز أكبر مما يسمح به هذا النموذج.",
            en: "The max tokens are more than this model allows.",
        }
        err_busy {
            ar: "الخوادم مشغولة الآن. حاول مرة أخرى بعد قليل.",
            en: "The model servers are busy. Try again in a moment.",
        }
        err_other {
            ar: "تعذّر الحصول على إجابة. حاول مرة أخرى.",
            en: "No answer could be obtained. Please try again.",
        }
        err_broken {
            ar: "انقطعت الإجابة قبل اكتمالها.",
            en: "The answer was cut off before it finished.",
        }
        no_models {
            ar: "لا توجد نماذج متاحة لباقتك.",
            en: "No models are available to your plan.",
        }
    }
}
