import { test, expect, hydrated, uniqueUser, register } from './fixtures';

test('register, create a key shown once, list, delete, log out and back in', async ({ page }) => {
  const user = uniqueUser();
  await register(page, user);
  await expect(page.getByTestId('balance')).toHaveText('100');

  await page.getByRole('link', { name: 'API keys' }).first().click();
  await expect(page).toHaveURL(/\/keys$/);
  await hydrated(page);
  await page.getByLabel('Label').fill('production');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = (await page.getByTestId('new-key').textContent())!.trim();
  expect(secret).toMatch(/^rsl_[A-Za-z0-9_-]{40,}$/);

  const table = page.getByTestId('keys');
  await expect(table).toContainText(secret.slice(0, 12));
  await expect(table).toContainText('production');
  expect(await table.textContent()).not.toContain(secret.slice(12));

  // Shown once: a fresh visit lists the key but never shows the secret again.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('keys')).toContainText(secret.slice(0, 12));
  await expect(page.getByTestId('new-key')).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);

  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByTestId('confirm-delete').click();
  await expect(page.getByTestId('no-keys')).toBeVisible();

  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=\/dashboard$/);

  await hydrated(page);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('balance')).toHaveText('100');
});

test('the session survives a browser restart', async ({ page, browser }) => {
  const user = uniqueUser();
  await register(page, user);
  const saved = await page.context().storageState();
  await page.context().close();

  const reopened = await browser.newContext({ storageState: saved });
  const again = await reopened.newPage();
  await again.goto('/dashboard?lang=en');
  await expect(again).toHaveURL(/\/dashboard/);
  await expect(again.getByTestId('balance')).toHaveText('100');
  await reopened.close();
});

test('a logged-out visit to /keys lands on /login and comes back after login', async ({ page }) => {
  const user = uniqueUser();
  await register(page, user);
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login$/);

  await page.goto('/keys');
  await expect(page).toHaveURL(/\/login\?next=\/keys$/);
  await hydrated(page);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/keys$/);
});

test.describe('refused input', () => {
  test.use({ expectedConsoleErrors: [/status of 422/] });

  test('shows the error next to the field, in English and in Arabic', async ({ page }) => {
    await page.goto('/register?lang=en');
    await hydrated(page);
    await page.getByLabel('Email').fill('someone@example.com');
    await page.getByLabel('Phone').fill('+965123');
    await page.getByLabel('Password').fill('long enough password');
    await page.locator('form button[type=submit]').click();
    const phone = page.getByLabel('Phone');
    await expect(phone).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator('#f-phone-error')).toContainText('+965 and 8 digits');

    await page.goto('/login?lang=ar');
    await hydrated(page);
    await page.getByLabel('البريد الإلكتروني').fill('nobody@example.com');
    await page.getByLabel('كلمة المرور').fill('wrong password');
    await page.locator('form button[type=submit]').click();
    await expect(page.locator('#f-password-error')).toContainText('غير صحيحة');
  });
});

test('?lang=ar renders right-to-left Arabic and ?lang=en English', async ({ page }) => {
  await page.goto('/register?lang=ar');
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ar');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('أنشئ حسابك');
  await hydrated(page);

  await page.goto('/register?lang=en');
  await expect(page.locator('html')).toHaveAttribute('dir', 'ltr');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Create your account');
  await expect(page.getByText('Email', { exact: true })).toBeVisible();

  // The choice is kept in a cookie.
  await page.goto('/login');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await page.getByRole('link', { name: 'العربية' }).click();
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
});
