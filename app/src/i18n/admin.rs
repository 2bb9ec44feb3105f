//! The admin pages (overview, users, models and prices, audit log, orders, notifications).
texts! {
    /// The admin pages (orders, notifications).
    pub struct Admin {
        admin_orders {
            ar: "الطلبات",
            en: "Orders",
        }
        admin_notifications {
            ar: "الإشعارات",
            en: "Notifications",
        }
        previous {
            ar: "السابق",
            en: "Previous",
        }
        next {
            ar: "التالي",
            en: "Next",
        }
        to_col {
            ar: "إلى",
            en: "To",
        }
        kind_col {
            ar: "الرسالة",
            en: "Message",
        }
        attempts_col {
            ar: "المحاولات",
            en: "Attempts",
        }
        last_error_col {
            ar: "آخر خطأ",
            en: "Last error",
        }
        resend {
            ar: "إعادة الإرسال",
            en: "Resend",
        }
        admin_overview {
            ar: "نظرة عامة",
            en: "Overview",
        }
        admin_users {
            ar: "المستخدمون",
            en: "Users",
        }
        admin_models {
            ar: "النماذج والأسعار",
            en: "Models and prices",
        }
        admin_audit {
            ar: "سجل التدقيق",
            en: "Audit log",
        }
        users_total {
            ar: "المستخدمون",
            en: "Users",
        }
        users_new_week {
            ar: "جدد هذا الأسبوع",
            en: "new this week",
        }
        active_plans {
            ar: "الباقات النشطة",
            en: "Active plans",
        }
        revenue_today {
            ar: "الإيراد اليوم",
            en: "Revenue today",
        }
        revenue_month {
            ar: "الإيراد هذا الشهر",
            en: "Revenue this month",
        }
        requests_today {
            ar: "الطلبات اليوم",
            en: "Requests today",
        }
        credits_today {
            ar: "الرصيد المستهلك اليوم",
            en: "Credits used today",
        }
        cloud_budget {
            ar: "ميزانية السحابة اليوم",
            en: "Cloud budget today",
        }
        cloud_used {
            ar: "طلبات سحابية من أصل",
            en: "cloud requests of",
        }
        cloud_resets {
            ar: "يُعاد العدّ عند منتصف الليل بتوقيت الكويت:",
            en: "Resets at midnight Kuwait time:",
        }
        cloud_off {
            ar: "السحابة متوقفة حتى منتصف الليل.",
            en: "Cloud is off until midnight.",
        }
        cloud_warn {
            ar: "اقتربت الميزانية من حدّها.",
            en: "The budget is nearly used up.",
        }
        cloud_ok {
            ar: "ضمن الميزانية.",
            en: "Within budget.",
        }
        revenue_chart {
            ar: "الإيراد اليومي (د.ك) حسب الباقة والرصيد الإضافي — آخر 30 يوماً",
            en: "Revenue per day (KWD) by plan and pack — last 30 days",
        }
        requests_chart {
            ar: "الطلبات اليومية: محلي وسحابي — آخر 30 يوماً",
            en: "Requests per day: local and cloud — last 30 days",
        }
        revenue_title {
            ar: "الإيرادات",
            en: "Revenue",
        }
        traffic_title {
            ar: "حركة الواجهة البرمجية",
            en: "API traffic",
        }
        show_table {
            ar: "عرض الأرقام كجدول",
            en: "Show the numbers as a table",
        }
        packs {
            ar: "الرصيد الإضافي",
            en: "Packs",
        }
        local {
            ar: "محلي",
            en: "Local",
        }
        cloud {
            ar: "سحابي",
            en: "Cloud",
        }
        day_col {
            ar: "اليوم",
            en: "Day",
        }
        total_col {
            ar: "المجموع",
            en: "Total",
        }
        search {
            ar: "بحث",
            en: "Search",
        }
        search_hint {
            ar: "البريد الإلكتروني أو رقم الهاتف",
            en: "E-mail or phone number",
        }
        sort {
            ar: "الترتيب",
            en: "Sort",
        }
        sort_newest {
            ar: "الأحدث",
            en: "Newest",
        }
        sort_balance {
            ar: "الرصيد",
            en: "Balance",
        }
        sort_activity {
            ar: "آخر نشاط",
            en: "Last activity",
        }
        email_col {
            ar: "البريد الإلكتروني",
            en: "E-mail",
        }
        phone_col {
            ar: "الهاتف",
            en: "Phone",
        }
        plan_col {
            ar: "الباقة",
            en: "Plan",
        }
        balance_col {
            ar: "الرصيد",
            en: "Balance",
        }
        joined_col {
            ar: "انضم",
            en: "Joined",
        }
        active_col {
            ar: "آخر نشاط",
            en: "Last activity",
        }
        no_users {
            ar: "لا يوجد مستخدمون مطابقون.",
            en: "No matching users.",
        }
        never {
            ar: "—",
            en: "—",
        }
        suspended {
            ar: "موقوف",
            en: "Suspended",
        }
        active {
            ar: "نشط",
            en: "Active",
        }
        role_admin {
            ar: "مسؤول",
            en: "Admin",
        }
        role_user {
            ar: "مستخدم",
            en: "User",
        }
        no_plan {
            ar: "بدون باقة",
            en: "No plan",
        }
        expires {
            ar: "تنتهي",
            en: "Expires",
        }
        keys {
            ar: "المفاتيح",
            en: "Keys",
        }
        orders {
            ar: "الطلبات",
            en: "Orders",
        }
        usage {
            ar: "آخر الطلبات",
            en: "Recent requests",
        }
        ledger {
            ar: "سجل الرصيد",
            en: "Credit ledger",
        }
        none_yet {
            ar: "لا شيء بعد.",
            en: "Nothing yet.",
        }
        adjust {
            ar: "تعديل الرصيد",
            en: "Adjust credits",
        }
        amount {
            ar: "المقدار (موجب للإضافة، سالب للخصم)",
            en: "Amount (positive adds, negative subtracts)",
        }
        reason {
            ar: "السبب",
            en: "Reason",
        }
        reason_required {
            ar: "السبب (مطلوب)",
            en: "Reason (required)",
        }
        reason_optional {
            ar: "السبب (اختياري)",
            en: "Reason (optional)",
        }
        apply {
            ar: "تطبيق",
            en: "Apply",
        }
        suspend {
            ar: "إيقاف الحساب",
            en: "Suspend account",
        }
        reactivate {
            ar: "إعادة تفعيل الحساب",
            en: "Reactivate account",
        }
        suspend_hint {
            ar: "تنتهي الجلسات وتُرفض المفاتيح فوراً؛ تبقى البيانات.",
            en: "Sessions end and keys are refused at once; the data is kept.",
        }
        change_role {
            ar: "تغيير الدور",
            en: "Change role",
        }
        change_plan {
            ar: "تغيير الباقة أو تمديدها",
            en: "Change or extend plan",
        }
        plan_keep {
            ar: "تمديد الباقة الحالية",
            en: "Extend the current plan",
        }
        plan_none {
            ar: "إزالة الباقة",
            en: "Remove the plan",
        }
        days {
            ar: "عدد الأيام",
            en: "Days",
        }
        model_col {
            ar: "النموذج",
            en: "Model",
        }
        provider_col {
            ar: "المزوّد",
            en: "Provider",
        }
        tokens_col {
            ar: "الرموز",
            en: "Tokens",
        }
        credits_col {
            ar: "الرصيد",
            en: "Credits",
        }
        kind_ledger_col {
            ar: "النوع",
            en: "Kind",
        }
        delta_col {
            ar: "التغيير",
            en: "Change",
        }
        after_col {
            ar: "الرصيد بعده",
            en: "Balance after",
        }
        label_col {
            ar: "الاسم",
            en: "Label",
        }
        prefix_col {
            ar: "البادئة",
            en: "Prefix",
        }
        enabled {
            ar: "مفعّل",
            en: "Enabled",
        }
        tier {
            ar: "الفئة (أدنى باقة)",
            en: "Tier (lowest plan)",
        }
        tier_none {
            ar: "لا شيء",
            en: "None",
        }
        multiplier {
            ar: "المضاعِف",
            en: "Multiplier",
        }
        multiplier_default {
            ar: "فارغ = الافتراضي",
            en: "empty = default",
        }
        where_col {
            ar: "التشغيل",
            en: "Runs on",
        }
        fallback {
            ar: "البديل السحابي",
            en: "Cloud fallback",
        }
        restricted {
            ar: "مقيّد",
            en: "Restricted",
        }
        embedding {
            ar: "تضمين",
            en: "Embedding",
        }
        save {
            ar: "حفظ",
            en: "Save",
        }
        plans_prices {
            ar: "أسعار الباقات",
            en: "Plan prices",
        }
        packs_prices {
            ar: "أسعار الرصيد الإضافي",
            en: "Pack prices",
        }
        price_col {
            ar: "السعر (د.ك)",
            en: "Price (KWD)",
        }
        budget_settings {
            ar: "ميزانية السحابة",
            en: "Cloud budget",
        }
        daily_cap {
            ar: "الحد اليومي لطلبات السحابة",
            en: "Daily cap of cloud requests",
        }
        warn_percent {
            ar: "نسبة التنبيه (%)",
            en: "Alert threshold (%)",
        }
        live_note {
            ar: "تسري التغييرات فوراً على كل الخوادم دون إعادة تشغيل، وتُسجّل في سجل التدقيق.",
            en: "Changes apply at once on every server, without a restart, and are recorded in the audit log.",
        }
        actor {
            ar: "المسؤول (بريد أو cli)",
            en: "Admin (e-mail or cli)",
        }
        user_id {
            ar: "رقم المستخدم",
            en: "User id",
        }
        action {
            ar: "الإجراء",
            en: "Action",
        }
        any {
            ar: "الكل",
            en: "Any",
        }
        filter {
            ar: "تصفية",
            en: "Filter",
        }
        when_col {
            ar: "الوقت",
            en: "When",
        }
        who_col {
            ar: "من",
            en: "Who",
        }
        ip_col {
            ar: "IP",
            en: "IP",
        }
        what_col {
            ar: "ماذا",
            en: "What",
        }
        target_col {
            ar: "الهدف",
            en: "Target",
        }
        before_col {
            ar: "قبل",
            en: "Before",
        }
        after_value_col {
            ar: "بعد",
            en: "After",
        }
        no_audit {
            ar: "لا توجد سجلات.",
            en: "No entries.",
        }
        saved {
            ar: "تم الحفظ.",
            en: "Saved.",
        }
        matches {
            ar: "نتيجة",
            en: "results",
        }
        user_page {
            ar: "صفحة المستخدم",
            en: "User page",
        }
    }
}
