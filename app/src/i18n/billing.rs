//! Plans, packs, checkout, the test gateway, payment results and the order table.
texts! {
    /// Plans, packs, checkout, the test gateway, payment results and the order table.
    pub struct Billing {
        billing_title {
            ar: "الباقات والرصيد",
            en: "Plans and credits",
        }
        billing_intro {
            ar: "اشترك في باقة لمدة ٣٠ يوماً، أو اشحن رصيداً لا ينتهي. الأسعار بالدينار الكويتي؛ الدفع عبر كي نت أو البطاقة.",
            en: "Subscribe to a plan for 30 days, or top up credits that never expire. Prices in Kuwaiti dinars; pay with KNET or card.",
        }
        current_plan {
            ar: "باقتك",
            en: "Your plan",
        }
        status_active {
            ar: "فعالة",
            en: "Active",
        }
        status_expired {
            ar: "منتهية — تُطبّق حدود الباقة الأساسية",
            en: "Expired — Basic limits apply",
        }
        status_none {
            ar: "لا توجد باقة — تُطبّق حدود الباقة الأساسية",
            en: "No plan — Basic limits apply",
        }
        per_30_days {
            ar: "لكل ٣٠ يوماً",
            en: "per 30 days",
        }
        credits_included {
            ar: "رصيد مشمول",
            en: "credits included",
        }
        requests_per_minute {
            ar: "طلب في الدقيقة",
            en: "requests per minute",
        }
        models_label {
            ar: "النماذج",
            en: "Models",
        }
        extras_priority {
            ar: "أولوية في الطابور والفرق",
            en: "Priority queue and teams",
        }
        subscribe {
            ar: "اشترك",
            en: "Subscribe",
        }
        renew {
            ar: "جدّد",
            en: "Renew",
        }
        packs_title {
            ar: "باقات الشحن",
            en: "Top-up packs",
        }
        never_expire {
            ar: "الرصيد لا ينتهي",
            en: "Credits never expire",
        }
        buy {
            ar: "اشترِ",
            en: "Buy",
        }
        pay_card {
            ar: "بطاقة",
            en: "Card",
        }
        history_title {
            ar: "سجل المدفوعات",
            en: "Payment history",
        }
        no_payments {
            ar: "لا توجد مدفوعات بعد.",
            en: "No payments yet.",
        }
        item_col {
            ar: "البند",
            en: "Item",
        }
        amount_col {
            ar: "المبلغ",
            en: "Amount",
        }
        invoice_col {
            ar: "الفاتورة",
            en: "Invoice",
        }
        order_pending {
            ar: "قيد الانتظار",
            en: "Pending",
        }
        order_paid {
            ar: "مدفوع",
            en: "Paid",
        }
        order_failed {
            ar: "فشل",
            en: "Failed",
        }
        order_canceled {
            ar: "أُلغي",
            en: "Canceled",
        }
        order_mismatch {
            ar: "قيد المراجعة",
            en: "Under review",
        }
        test_banner {
            ar: "دفعة تجريبية — هذه بوابة الاختبار المحلية. لا تُحوَّل أي أموال ولا تُطلب بطاقة.",
            en: "TEST PAYMENT — this is the local test gateway. No money moves and no card is asked for.",
        }
        test_pay_title {
            ar: "دفعة تجريبية",
            en: "Test payment",
        }
        test_pay_ok {
            ar: "ادفع (تجريبي)",
            en: "Pay (test)",
        }
        test_pay_fail {
            ar: "أفشل الدفعة (تجريبي)",
            en: "Fail the payment (test)",
        }
        result_paid {
            ar: "تم تأكيد الدفع. رصيدك جاهز.",
            en: "Payment confirmed. Your credits are ready.",
        }
        result_failed {
            ar: "لم تتم عملية الدفع. لم يُخصم أي مبلغ ولم يتغير شيء. يمكنك المحاولة مرة أخرى.",
            en: "The payment did not go through. No money was taken and nothing changed. You can try again.",
        }
        result_canceled {
            ar: "أُلغيت عملية الدفع. لم يتغير شيء.",
            en: "The payment was canceled. Nothing changed.",
        }
        result_pending {
            ar: "نقوم بتأكيد دفعتك. ستتحدث هذه الصفحة تلقائياً، ويمكنك العودة لاحقاً.",
            en: "We are confirming your payment. This page updates by itself; you can also come back later.",
        }
        result_mismatch {
            ar: "لم نتمكن من مطابقة هذه الدفعة مع طلبك. سيراجعها فريقنا؛ لن يُخصم أي مبلغ مرتين.",
            en: "We could not match this payment to your order. Our team will review it; nothing was charged twice.",
        }
        try_again {
            ar: "حاول مرة أخرى",
            en: "Try again",
        }
        to_dashboard {
            ar: "انتقل إلى لوحة التحكم",
            en: "Go to the dashboard",
        }
        back_to_billing {
            ar: "العودة إلى الفوترة",
            en: "Back to billing",
        }
        account_col {
            ar: "الحساب",
            en: "Account",
        }
        mark_paid {
            ar: "تعليم كمدفوع",
            en: "Mark paid",
        }
        reason {
            ar: "السبب",
            en: "Reason",
        }
        reason_hint {
            ar: "ما تحققت منه مع ماي فاتورة (يُحفظ في السجل)",
            en: "What you checked with MyFatoorah (kept in the ledger)",
        }
        payments_unavailable {
            ar: "الدفع الإلكتروني غير متاح بعد: لا يمكن شراء الباقات أو الرصيد من هنا حالياً. تواصل معنا.",
            en: "Online payments are not available yet: plans and credits cannot be bought here for now. Please contact us.",
        }
    }
}
