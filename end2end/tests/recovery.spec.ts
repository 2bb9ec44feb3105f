import { test, expect, uniqueUser, register, hydrated } from './fixtures';
import type { Page } from '@playwright/test';

// Account self-service (issue 15): a forgotten password is reset with the code sent by
// WhatsApp, which ends the old sessions; the welcome code verifies the phone. The codes are
// read from the fake WhatsApp the portal sends to (WHATSAPP_PROVIDER=http, see
// scripts/test.sh): E2E_FAKE_WHATSAPP is its address, `GET /messages` what it received.
const fake = process.env.E2E_FAKE_WHATSAPP ?? '';
// Never skipped: scripts/test.sh starts the fake WhatsApp and sets it; missing, the tests fail.
if (!fake) throw new Error('recovery.spec needs E2E_FAKE_WHATSAPP (scripts/test.sh starts the fake WhatsApp)');

type Received = { to: string; text?: string | null };

/** The newest code sent to `phone` in a message whose text matches `kind`. */
async function codeFor(phone: string, kind: RegExp): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const got: Received[] = await (await fetch(`${fake}/messages`)).json();
    const texts = got.filter((m) => m.to === phone && m.text && kind.test(m.text)).map((m) => m.text!);
    const match = texts.length ? texts[texts.length - 1].match(/\d{6}/) : null;
    if (match) return match[0];
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no code for ${phone}`);
}

async function shoot(page: Page, name: string) {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `test-results/screens/${name}-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

for (const lang of ['en', 'ar']) {
  test(`forgot password: the WhatsApp code sets a new one and ends the old sessions (${lang})`, async ({ page, browser }) => {
    const user = uniqueUser();
    await register(page, user, lang);
    await expect(page.getByTestId('verify-phone')).toBeVisible();
    // Signed in on a second device too.
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await otherPage.goto(`/login?lang=${lang}`);
    await hydrated(otherPage);
    await otherPage.locator('input[name=email]').fill(user.email);
    await otherPage.locator('input[name=password]').fill(user.password);
    await otherPage.locator('form button[type=submit]').click();
    await expect(otherPage).toHaveURL(/\/dashboard$/);

    // Someone who forgot: a fresh browser, from the login page's link.
    const fresh = await browser.newContext();
    const p = await fresh.newPage();
    await p.goto(`/login?lang=${lang}`);
    await hydrated(p);
    await p.getByRole('link', { name: lang === 'en' ? 'Forgot your password?' : 'نسيت كلمة المرور؟' }).click();
    await expect(p).toHaveURL(/\/forgot$/);
    await shoot(p, `forgot-${lang}`);
    await p.locator('input[name=identifier]').fill(user.email);
    await p.locator('form button[type=submit]').click();
    await expect(p).toHaveURL(/\/reset\?to=/);
    await expect(p.locator('input[name=identifier]')).toHaveValue(user.email);

    // A wrong code first: a clear message, nothing changes.
    const code = await codeFor(user.phone, /password reset code|إعادة تعيين كلمة المرور/);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await p.locator('input[name=code]').fill(wrong);
    await p.locator('input[name=password]').fill('a brand new password');
    await p.locator('form button[type=submit]').click();
    await expect(p.locator('.field.has-error')).toContainText(
      lang === 'en' ? 'That code is wrong or no longer valid' : 'الرمز غير صحيح',
    );
    await shoot(p, `reset-${lang}`);
    await p.locator('input[name=code]').fill(code);
    await p.locator('input[name=password]').fill('a brand new password');
    await p.locator('form button[type=submit]').click();
    await expect(p).toHaveURL(/\/dashboard\?done=reset$/);
    await expect(p.getByTestId('done')).toBeVisible();
    // The code reached the phone: it counts as verified.
    await expect(p.getByTestId('verify-phone')).toHaveCount(0);

    // Both old sessions are over.
    for (const old of [page, otherPage]) {
      await old.goto('/dashboard');
      await expect(old).toHaveURL(/\/login\?next=\/dashboard$/);
    }
    // The account page lists only this device.
    await p.goto('/account');
    await expect(p.getByTestId('sessions').locator('tbody tr')).toHaveCount(1);
    await expect(p.getByTestId('sessions')).toContainText(lang === 'en' ? 'This device' : 'هذا الجهاز');
    await shoot(p, `account-${lang}`);
    await other.close();
    await fresh.close();
  });
}

test('the welcome code verifies the phone on the account page', async ({ page }) => {
  const user = uniqueUser();
  await register(page, user, 'en');
  await page.getByTestId('verify-phone').getByRole('link').click();
  await expect(page).toHaveURL(/\/account#phone$/);
  const code = await codeFor(user.phone, /Your phone verification code is/);
  await page.locator('#phone input[name=code]').fill(code);
  await page.locator('#phone form button[type=submit]').first().click();
  await expect(page).toHaveURL(/\/account\?done=phone_verified$/);
  await expect(page.getByTestId('phone-verified')).toBeVisible();
  await page.goto('/dashboard');
  await expect(page.getByTestId('verify-phone')).toHaveCount(0);
});
