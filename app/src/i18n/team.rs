//! The team page (Enterprise teams: members, invitations, team keys, usage).
texts! {
    /// The team page (Enterprise teams: members, invitations, team keys, usage).
    pub struct Team {
        title {
            ar: "الفريق",
            en: "Team",
        }
        intro {
            ar: "يستخدم أعضاء الفريق مفاتيح الفريق على رصيد المالك وباقته وحدّ طلباته.",
            en: "Team members use team keys on the owner's credits, plan and rate limit.",
        }
        needs_enterprise {
            ar: "الفرق جزء من باقة المؤسسات. اشترك فيها لتضيف أعضاء إلى فريقك.",
            en: "Teams come with the Enterprise plan. Subscribe to add members to your team.",
        }
        see_plans {
            ar: "عرض الباقات",
            en: "See plans",
        }
        lapsed {
            ar: "باقة المؤسسات لمالك الفريق غير فعّالة: مفاتيح الفريق مرفوضة حتى تجديدها. لم يُحذف شيء.",
            en: "The team owner's Enterprise plan is not active: team keys are refused until it is renewed. Nothing was deleted.",
        }
        name_label {
            ar: "اسم الفريق",
            en: "Team name",
        }
        name_hint {
            ar: "مثل: فريق التطوير",
            en: "For example: Engineering",
        }
        create_team {
            ar: "إنشاء الفريق",
            en: "Create team",
        }
        rename {
            ar: "تغيير الاسم",
            en: "Rename",
        }
        your_role {
            ar: "دورك",
            en: "Your role",
        }
        role_owner {
            ar: "المالك",
            en: "Owner",
        }
        role_admin {
            ar: "مشرف",
            en: "Admin",
        }
        role_member {
            ar: "عضو",
            en: "Member",
        }
        members_title {
            ar: "الأعضاء",
            en: "Members",
        }
        email_col {
            ar: "البريد الإلكتروني",
            en: "Email",
        }
        role_col {
            ar: "الدور",
            en: "Role",
        }
        joined_col {
            ar: "تاريخ الانضمام",
            en: "Joined",
        }
        keys_col {
            ar: "المفاتيح",
            en: "Keys",
        }
        requests_col {
            ar: "الطلبات",
            en: "Requests",
        }
        credits_col {
            ar: "الرصيد المستهلك",
            en: "Credits used",
        }
        remove {
            ar: "إزالة",
            en: "Remove",
        }
        leave {
            ar: "مغادرة الفريق",
            en: "Leave team",
        }
        invite_title {
            ar: "دعوة عضو",
            en: "Invite a member",
        }
        invite_email {
            ar: "البريد الإلكتروني",
            en: "Email",
        }
        invite_hint {
            ar: "إن كان لديه حساب يرى الدعوة في صفحة الفريق. وإن لم يكن، تحصل على رمز تعطيه له بنفسك. تنتهي بعد ٧ أيام.",
            en: "With an account, they see the invitation on their Team page. Without one, you get a code to give them yourself. It expires after 7 days.",
        }
        with_code {
            ar: "بالرمز",
            en: "with code",
        }
        invited_title {
            ar: "أُنشئت الدعوة إلى",
            en: "Invitation created for",
        }
        invited_once {
            ar: "لا يُعرض هذا الرمز إلا الآن. لا حساب بهذا البريد بعد، ولن نرسل له شيئاً: أعطه الرابط أو الرمز بنفسك (في محادثة مثلاً). يسجّل بهذا البريد ثم ينضم به.",
            en: "This code is shown only now. No account has this address yet and we send it nothing: give the link or the code to the person yourself (in a chat, for example). They register with this address, then join with it.",
        }
        invite_link_label {
            ar: "رابط الدعوة",
            en: "Invitation link",
        }
        invite_code_label {
            ar: "رمز الدعوة",
            en: "Invitation code",
        }
        copy_link {
            ar: "نسخ الرابط",
            en: "Copy link",
        }
        copy_code {
            ar: "نسخ الرمز",
            en: "Copy code",
        }
        invited_hint {
            ar: "إن فقدت الرمز فاسحب الدعوة وأرسل دعوة جديدة. يُستخدم الرمز مرة واحدة وينتهي بعد ٧ أيام.",
            en: "If the code is lost, withdraw the invitation and send a new one. The code works once and expires after 7 days.",
        }
        invited_done {
            ar: "تم",
            en: "Done",
        }
        code_title {
            ar: "الانضمام إلى فريق برمز دعوة",
            en: "Join a team with an invitation code",
        }
        code_intro {
            ar: "إن دعاك أحد إلى فريقه قبل أن يكون لك حساب، فقد أعطاك رابطاً أو رمزاً. الصق أيهما هنا.",
            en: "If someone invited you to their team before you had an account, they gave you a link or a code. Paste either one here.",
        }
        code_label {
            ar: "رمز الدعوة",
            en: "Invitation code",
        }
        code_hint {
            ar: "يجب أن تكون مسجّلاً بالبريد الذي دُعي.",
            en: "You must be signed in with the invited email address.",
        }
        join {
            ar: "انضمام إلى الفريق",
            en: "Join team",
        }
        invite_role {
            ar: "الدور",
            en: "Role",
        }
        invite {
            ar: "إرسال الدعوة",
            en: "Send invitation",
        }
        pending_title {
            ar: "دعوات بانتظار الرد",
            en: "Pending invitations",
        }
        no_pending {
            ar: "لا توجد دعوات بانتظار الرد.",
            en: "No pending invitations.",
        }
        expires_col {
            ar: "تنتهي في",
            en: "Expires",
        }
        withdraw {
            ar: "سحب",
            en: "Withdraw",
        }
        invitations_title {
            ar: "دعوات إلى فرق",
            en: "Team invitations",
        }
        invited_to {
            ar: "دُعيت للانضمام إلى فريق",
            en: "You are invited to join the team",
        }
        as_role {
            ar: "بدور",
            en: "as",
        }
        accept {
            ar: "قبول",
            en: "Accept",
        }
        decline {
            ar: "رفض",
            en: "Decline",
        }
        open_team {
            ar: "عرض الدعوات",
            en: "View invitations",
        }
        keys_title {
            ar: "مفاتيح الفريق",
            en: "Team keys",
        }
        keys_intro {
            ar: "مفتاح الفريق يستهلك رصيد مالك الفريق. يظهر مرة واحدة فقط؛ احفظه بسرية.",
            en: "A team key spends the team owner's credits. It is shown once; keep it secret.",
        }
        no_keys {
            ar: "لا توجد مفاتيح فريق بعد.",
            en: "No team keys yet.",
        }
        member_col {
            ar: "العضو",
            en: "Member",
        }
        revoke {
            ar: "حذف",
            en: "Delete",
        }
        usage_title {
            ar: "استهلاك الفريق",
            en: "Team usage",
        }
        from {
            ar: "من",
            en: "From",
        }
        to {
            ar: "إلى",
            en: "To",
        }
        show {
            ar: "عرض",
            en: "Show",
        }
        export_csv {
            ar: "تصدير CSV",
            en: "Export CSV",
        }
        no_usage {
            ar: "لا يوجد استهلاك في هذه الفترة.",
            en: "No usage in this period.",
        }
        total {
            ar: "المجموع",
            en: "Total",
        }
        chart_requests {
            ar: "الطلبات لكل عضو",
            en: "Requests per member",
        }
        chart_credits {
            ar: "الرصيد المستهلك لكل عضو",
            en: "Credits used per member",
        }
        day_kuwait {
            ar: "اليوم (بتوقيت الكويت)",
            en: "Day (Kuwait)",
        }
        no_team {
            ar: "لست عضواً في أي فريق.",
            en: "You are not in a team.",
        }
    }
}
