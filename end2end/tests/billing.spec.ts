import { test, expect, hydrated, uniqueUser, register } from './fixtures';

// Payments through the clearly labelled local test gateway (no MyFatoorah credentials in
// the end-to-end run): the same order → confirm code path as real payments.

test('buying the 5,000-credit pack grows the balance on the dashboard', async ({ page }) => {
  await register(page, uniqueUser());
  await page.goto('/billing');
  await hydrated(page);
  await expect(page.getByRole('note').first()).toContainText('TEST PAYMENT');
  await page.getByTestId('buy-pack-5k-knet').click();
  await expect(page).toHaveURL(/\/billing\/test-pay\/\d+$/);
  await hydrated(page);
  await expect(page.getByRole('note')).toContainText('TEST PAYMENT');
  await page.getByTestId('test-pay').click();
  await expect(page).toHaveURL(/\/billing\/result\?order=\d+$/);
  await expect(page.getByTestId('payment-result')).toHaveAttribute('data-status', 'paid');

  await page.goto('/dashboard');
  await expect(page.getByTestId('balance')).toHaveText('5,100');

  await page.goto('/billing');
  const row = page.getByTestId('orders').locator('tbody tr').first();
  await expect(row).toContainText('5.000 KWD');
  await expect(row).toHaveAttribute('data-status', 'paid');
});

test('subscribing to Pro shows the plan and its expiry', async ({ page }) => {
  await register(page, uniqueUser());
  await page.goto('/billing');
  await hydrated(page);
  await page.getByTestId('buy-pro-knet').click();
  await expect(page).toHaveURL(/\/billing\/test-pay\/\d+$/);
  await hydrated(page);
  await page.getByTestId('test-pay').click();
  await expect(page.getByTestId('payment-result')).toHaveAttribute('data-status', 'paid');

  await page.goto('/dashboard');
  await expect(page.getByTestId('plan')).toHaveText('Pro');
  await expect(page.getByTestId('plan-expiry')).toContainText(/\d{4}-\d{2}-\d{2}/);
  await expect(page.getByTestId('balance')).toHaveText('20,100');
  await page.goto('/billing');
  await expect(page.getByTestId('current-plan')).toContainText('Active');
});

test('a failed payment says so plainly, offers a retry and adds no credits', async ({ page }) => {
  await register(page, uniqueUser());
  await page.goto('/billing');
  await hydrated(page);
  await page.getByTestId('buy-pack-15k-knet').click();
  await expect(page).toHaveURL(/\/billing\/test-pay\/\d+$/);
  await hydrated(page);
  await page.getByTestId('test-fail').click();
  const result = page.getByTestId('payment-result');
  await expect(result).toHaveAttribute('data-status', 'failed');
  await expect(result).toContainText('did not go through');
  await expect(page.getByRole('link', { name: 'Try again' })).toBeVisible();

  await page.goto('/dashboard');
  await expect(page.getByTestId('balance')).toHaveText('100');
});

test('billing in Arabic shows prices in Arabic numerals', async ({ page }) => {
  await register(page, uniqueUser(), 'ar');
  await page.goto('/billing');
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  await expect(page.getByTestId('pack-pack-5k')).toContainText('٥٫٠٠٠ د.ك');
  await hydrated(page);
  await page.screenshot({ path: 'test-results/screens/billing-ar.png', fullPage: true });
  await page.goto('/billing?lang=en');
  await hydrated(page);
  await page.screenshot({ path: 'test-results/screens/billing-en.png', fullPage: true });
});
