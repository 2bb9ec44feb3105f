import { test as base, expect, Page } from '@playwright/test';

/** Console errors a test announces in advance (e.g. the 422 of a refused form). */
type Expected = RegExp[];

// Every test fails on any browser console error or uncaught exception it did not expect:
// a broken wasm bundle or a missing asset must never pass.
export const test = base.extend<{ expectedConsoleErrors: Expected }>({
  expectedConsoleErrors: [[], { option: true }],
  page: async ({ page, expectedConsoleErrors }, use) => {
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
    await use(page);
    const unexpected = errors.filter((e) => !expectedConsoleErrors.some((re) => re.test(e)));
    expect(unexpected, 'browser console errors').toEqual([]);
  },
});

export { expect };

/**
 * Waits until the page is interactive. Only islands run in the browser: a page without
 * any is interactive once loaded; a page with islands marks `<body data-hydrated>` when
 * every island has hydrated (app/src/components/island.rs).
 */
export async function hydrated(page: Page) {
  await page.waitForFunction(
    () => !document.querySelector('leptos-island') || document.body.dataset.hydrated === 'true',
  );
}

export function uniqueUser() {
  const n = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  return {
    email: `e2e${n}@example.com`,
    phone: `+9655${n.slice(-7)}`,
    password: 'correct horse battery',
  };
}

export async function register(page: Page, user: ReturnType<typeof uniqueUser>, lang = 'en') {
  await page.goto(`/register?lang=${lang}`);
  await hydrated(page);
  await page.getByLabel(lang === 'en' ? 'Email' : 'البريد الإلكتروني').fill(user.email);
  await page.getByLabel(lang === 'en' ? 'Phone' : 'رقم الهاتف').fill(user.phone);
  await page.getByLabel(lang === 'en' ? 'Password' : 'كلمة المرور').fill(user.password);
  await page.locator('form button[type=submit]').click();
  await expect(page).toHaveURL(/\/dashboard$/);
}
