//! Forgotten password, the account page and the phone verification banner.
texts! {
    /// Forgotten password, account page, verification banner.
    pub struct Account {
        forgot_title {
            ar: "نسيت كلمة المرور",
            en: "Forgot your password",
        }
        forgot_lead {
            ar: "اكتب بريدك الإلكتروني أو رقم هاتفك، وسنرسل رمزاً من ٦ أرقام عبر واتساب إلى الرقم المسجّل في حسابك.",
            en: "Type your e-mail or phone number and we will send a 6-digit code by WhatsApp to the number on your account.",
        }
        identifier {
            ar: "البريد الإلكتروني أو رقم الهاتف",
            en: "E-mail or phone number",
        }
        send_code {
            ar: "أرسل الرمز",
            en: "Send the code",
        }
        reset_title {
            ar: "تعيين كلمة مرور جديدة",
            en: "Set a new password",
        }
        reset_lead {
            ar: "إن كان هناك حساب بهذه البيانات فقد أرسلنا رمزاً عبر واتساب إلى رقمه. الرمز صالح ١٠ دقائق ولمرة واحدة.",
            en: "If an account matches, we sent a code by WhatsApp to its number. The code is valid for 10 minutes, once.",
        }
        code {
            ar: "الرمز (٦ أرقام)",
            en: "Code (6 digits)",
        }
        new_password {
            ar: "كلمة المرور الجديدة",
            en: "New password",
        }
        reset_submit {
            ar: "غيّر كلمة المرور وسجّل الدخول",
            en: "Change password and log in",
        }
        reset_note {
            ar: "سيُسجَّل خروجك من كل الأجهزة الأخرى.",
            en: "Every other device will be signed out.",
        }
        new_code_link {
            ar: "لم يصلك الرمز؟ اطلب رمزاً جديداً",
            en: "No code? Ask for a new one",
        }
        account_title {
            ar: "حسابي",
            en: "My account",
        }
        profile_title {
            ar: "الملف الشخصي",
            en: "Profile",
        }
        name {
            ar: "الاسم (اختياري)",
            en: "Name (optional)",
        }
        language {
            ar: "اللغة المفضلة (للرسائل والصفحات)",
            en: "Preferred language (messages and pages)",
        }
        save {
            ar: "حفظ",
            en: "Save",
        }
        contact_title {
            ar: "البريد الإلكتروني والهاتف",
            en: "E-mail and phone",
        }
        contact_hint {
            ar: "يلزم تأكيد الرقم الجديد برمز يصل عبر واتساب.",
            en: "A new number must be confirmed with a code sent by WhatsApp.",
        }
        current_password {
            ar: "كلمة المرور الحالية",
            en: "Current password",
        }
        phone_title {
            ar: "تأكيد رقم الهاتف",
            en: "Phone verification",
        }
        phone_verified {
            ar: "رقم هاتفك مؤكَّد.",
            en: "Your phone number is verified.",
        }
        phone_unverified {
            ar: "اكتب الرمز الذي وصلك عبر واتساب لتأكيد رقمك. حتى ذلك الحين لا نرسل إليه إلا الرموز.",
            en: "Type the code we sent you by WhatsApp to confirm your number. Until then we send it nothing but codes.",
        }
        verify {
            ar: "تأكيد",
            en: "Verify",
        }
        resend_code {
            ar: "أرسل رمزاً جديداً",
            en: "Send a new code",
        }
        password_title {
            ar: "كلمة المرور",
            en: "Password",
        }
        change_password {
            ar: "غيّر كلمة المرور",
            en: "Change password",
        }
        password_note {
            ar: "تغيير كلمة المرور يُخرج كل الأجهزة الأخرى.",
            en: "Changing the password signs every other device out.",
        }
        sessions_title {
            ar: "الأجهزة المسجَّل دخولها",
            en: "Signed-in devices",
        }
        device_col {
            ar: "الجهاز",
            en: "Device",
        }
        ip_col {
            ar: "العنوان",
            en: "IP address",
        }
        started_col {
            ar: "بدأت",
            en: "Signed in",
        }
        seen_col {
            ar: "آخر نشاط",
            en: "Last seen",
        }
        this_device {
            ar: "هذا الجهاز",
            en: "This device",
        }
        unknown_device {
            ar: "متصفح غير معروف",
            en: "Unknown browser",
        }
        sign_out {
            ar: "تسجيل الخروج",
            en: "Sign out",
        }
        sign_out_others {
            ar: "تسجيل الخروج من كل الأجهزة الأخرى",
            en: "Sign out all other devices",
        }
        done_profile {
            ar: "حُفظ الملف الشخصي.",
            en: "Profile saved.",
        }
        done_contact {
            ar: "حُفظ البريد الإلكتروني والهاتف.",
            en: "E-mail and phone saved.",
        }
        done_code_sent {
            ar: "أرسلنا رمزاً عبر واتساب إلى رقمك. اكتبه أدناه.",
            en: "We sent a code by WhatsApp to your number. Type it below.",
        }
        done_phone_verified {
            ar: "تم تأكيد رقم هاتفك.",
            en: "Your phone number is verified.",
        }
        done_password {
            ar: "تم تغيير كلمة المرور، وخرجت الأجهزة الأخرى.",
            en: "Password changed; the other devices are signed out.",
        }
        done_session_ended {
            ar: "خرج الجهاز.",
            en: "That device is signed out.",
        }
        done_sessions_ended {
            ar: "خرجت كل الأجهزة الأخرى.",
            en: "Every other device is signed out.",
        }
        done_reset {
            ar: "تم تعيين كلمة المرور الجديدة، وخرجت كل الأجهزة الأخرى.",
            en: "Your new password is set; every other device is signed out.",
        }
        banner {
            ar: "أكِّد رقم هاتفك: اكتب الرمز الذي أرسلناه عبر واتساب.",
            en: "Verify your phone: type the code we sent you by WhatsApp.",
        }
        banner_action {
            ar: "تأكيد الرقم",
            en: "Verify phone",
        }
        nav_account {
            ar: "حسابي",
            en: "Account",
        }
    }
}
