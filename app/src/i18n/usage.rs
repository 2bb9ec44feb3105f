//! The usage chart (dashboard) and the usage page.
texts! {
    /// The usage chart and the usage page.
    pub struct Usage {
        chart_title {
            ar: "الاستخدام",
            en: "Usage",
        }
        period {
            ar: "الفترة",
            en: "Period",
        }
        metric {
            ar: "المقياس",
            en: "Measure",
        }
        day {
            ar: "يوم",
            en: "Day",
        }
        week {
            ar: "أسبوع",
            en: "Week",
        }
        month {
            ar: "شهر",
            en: "Month",
        }
        last_day {
            ar: "آخر ٢٤ ساعة، لكل ساعة",
            en: "last 24 hours, per hour",
        }
        last_week {
            ar: "آخر ٧ أيام، لكل يوم",
            en: "last 7 days, per day",
        }
        last_month {
            ar: "آخر ٣٠ يوماً، لكل يوم",
            en: "last 30 days, per day",
        }
        per_model {
            ar: "حسب النموذج، بتوقيت الكويت",
            en: "per model, Kuwait time",
        }
        requests {
            ar: "الطلبات",
            en: "Requests",
        }
        credits {
            ar: "الأرصدة",
            en: "Credits",
        }
        hour_kuwait {
            ar: "الساعة (الكويت)",
            en: "Hour (Kuwait)",
        }
        day_kuwait {
            ar: "اليوم (الكويت)",
            en: "Day (Kuwait)",
        }
        total {
            ar: "المجموع",
            en: "Total",
        }
        no_usage_yet {
            ar: "لا يوجد استخدام في هذه الفترة بعد.",
            en: "No usage in this period yet.",
        }
        chart_note {
            ar: "الطلبات تشمل المرفوضة منها.",
            en: "Requests include refused ones.",
        }
        see_table {
            ar: "كل الطلبات بالتفصيل",
            en: "Every request in detail",
        }
        page_title {
            ar: "سجل الاستخدام",
            en: "Usage history",
        }
        page_intro {
            ar: "كل طلب إلى واجهة البرمجة، بتوقيت الكويت. الأرصدة هي ما خُصم فعلاً.",
            en: "Every API request, in Kuwait time. Credits are what was actually charged.",
        }
        from {
            ar: "من تاريخ",
            en: "From",
        }
        to {
            ar: "إلى تاريخ",
            en: "To",
        }
        key {
            ar: "المفتاح",
            en: "Key",
        }
        model {
            ar: "النموذج",
            en: "Model",
        }
        status {
            ar: "الحالة",
            en: "Status",
        }
        all {
            ar: "الكل",
            en: "All",
        }
        ok {
            ar: "ناجحة",
            en: "Succeeded",
        }
        failed {
            ar: "مرفوضة أو فاشلة",
            en: "Refused or failed",
        }
        apply {
            ar: "عرض",
            en: "Show",
        }
        export_csv {
            ar: "تنزيل CSV",
            en: "Download CSV",
        }
        summary_title {
            ar: "الملخص حسب النموذج",
            en: "Summary per model",
        }
        summary_note {
            ar: "لكل الحالات في الفترة المختارة.",
            en: "All statuses in the selected range.",
        }
        errors {
            ar: "المرفوضة",
            en: "Refused",
        }
        prompt_tokens {
            ar: "رموز الطلب",
            en: "Prompt tokens",
        }
        completion_tokens {
            ar: "رموز الرد",
            en: "Completion tokens",
        }
        time {
            ar: "الوقت",
            en: "Time",
        }
        requested_model {
            ar: "النموذج المطلوب",
            en: "Requested model",
        }
        served_model {
            ar: "النموذج المُجيب",
            en: "Served model",
        }
        where_ {
            ar: "مكان التشغيل",
            en: "Where",
        }
        local {
            ar: "محلي",
            en: "Local",
        }
        cloud {
            ar: "سحابي",
            en: "Cloud",
        }
        latency {
            ar: "الزمن (مللي ثانية)",
            en: "Latency (ms)",
        }
        no_key {
            ar: "بدون مفتاح",
            en: "No key",
        }
        deleted {
            ar: "محذوف",
            en: "deleted",
        }
        no_rows {
            ar: "لا توجد طلبات تطابق هذا الاختيار.",
            en: "No requests match these filters.",
        }
        rows_found {
            ar: "عدد الطلبات:",
            en: "Requests found:",
        }
        page_of {
            ar: "صفحة",
            en: "Page",
        }
        of {
            ar: "من",
            en: "of",
        }
        newer {
            ar: "الأحدث",
            en: "Newer",
        }
        older {
            ar: "الأقدم",
            en: "Older",
        }
        bad_date {
            ar: "التاريخ غير صحيح: اكتبه بالشكل 2026-11-29.",
            en: "That date is not valid: write it as 2026-11-29.",
        }
        reversed {
            ar: "تاريخ البداية بعد تاريخ النهاية.",
            en: "The start date is after the end date.",
        }
        too_long {
            ar: "الفترة أطول من ٣٦٦ يوماً: اختر فترة أقصر.",
            en: "The range is longer than 366 days: choose a shorter one.",
        }
        unknown_key {
            ar: "هذا المفتاح ليس من مفاتيحك.",
            en: "That key is not one of yours.",
        }
        bad_status {
            ar: "الحالة غير معروفة.",
            en: "Unknown status.",
        }
        bad_page {
            ar: "رقم الصفحة غير صحيح.",
            en: "That is not a page number.",
        }
        past_end {
            ar: "هذه الصفحة بعد آخر صفحة. عدد الصفحات:",
            en: "That page is past the end. Pages:",
        }
        last_page {
            ar: "اذهب إلى آخر صفحة",
            en: "Go to the last page",
        }
        nav_label {
            ar: "صفحات السجل",
            en: "Usage pages",
        }
    }
}
