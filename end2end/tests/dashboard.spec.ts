import { test, expect, hydrated, uniqueUser, register } from './fixtures';

test('a key deleted from the dashboard is refused by the API at once', async ({ page }) => {
  await register(page, uniqueUser());
  await page.goto('/keys?lang=en');
  await hydrated(page);
  await page.getByLabel('Label').fill('dash');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = (await page.getByTestId('new-key').textContent())!.trim();
  const auth = { Authorization: `Bearer ${secret}` };
  expect((await page.request.get('/v1/models', { headers: auth })).status()).toBe(200);

  await page.goto('/dashboard?lang=en');
  await hydrated(page);
  const keys = page.getByTestId('dashboard-keys');
  await expect(keys).toContainText(secret.slice(0, 12));
  await expect(keys.getByLabel('Label')).toHaveCount(0); // creating stays on /keys
  await keys.getByTestId('delete-key').click();
  // Asked first; cancel keeps it.
  await keys.getByRole('link', { name: 'Cancel' }).click();
  await expect(keys.getByTestId('confirm-delete')).toBeHidden();
  await expect(keys).toContainText(secret.slice(0, 12));
  // By keyboard: "Delete" and "Cancel" are links (announced as links) and open and close
  // the confirmation with Enter.
  await keys.getByRole('link', { name: 'Delete' }).focus();
  await page.keyboard.press('Enter');
  await expect(keys.getByTestId('confirm-delete')).toBeVisible();
  await keys.getByRole('link', { name: 'Cancel' }).focus();
  await page.keyboard.press('Enter');
  await expect(keys.getByTestId('confirm-delete')).toBeHidden();
  await keys.getByTestId('delete-key').click();
  await keys.getByTestId('confirm-delete').click();
  await expect(keys.getByTestId('no-keys')).toBeVisible();
  expect((await page.request.get('/v1/models', { headers: auth })).status()).toBe(401);
});

// Screenshots of the dashboard and keys at desktop and phone width, in both languages;
// on a phone, no date, status or button in a table is broken over lines.
for (const lang of ['en', 'ar']) {
  test(`dashboard and keys at desktop and phone width (${lang})`, async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await register(page, uniqueUser(), lang);
    await page.goto(`/keys?lang=${lang}`);
    await hydrated(page);
    for (const label of ['production-server-eu', 'ci']) {
      await page.locator('input[name=label]').fill(label);
      await page.locator('main section.card form button[type=submit]').first().click();
      await expect(page.getByTestId('key-row').filter({ hasText: label })).toHaveCount(1);
    }
    await page.goto(`/dashboard?lang=${lang}`);
    await hydrated(page);
    await expect(page.getByTestId('credits-ring')).toBeVisible();
    await expect(page.getByTestId('credits')).toHaveAttribute('data-state', 'ok');
    await expect(page.getByTestId('header-top-up')).toHaveAttribute('href', '/billing#packs');
    for (const [name, path] of [['dashboard', '/dashboard'], ['keys', '/keys'], ['billing', '/billing']]) {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(`${path}?lang=${lang}`);
      await hydrated(page);
      await page.screenshot({ path: `test-results/screens/${name}-${lang}-desktop.png`, fullPage: true });
      // A phone opens the page at its own width.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${path}?lang=${lang}`);
      await hydrated(page);
      await page.screenshot({ path: `test-results/screens/${name}-${lang}-phone.png`, fullPage: true });
      // One line box each: nothing broken letter by letter.
      const broken = await page.evaluate(() =>
        Array.from(document.querySelectorAll('.table .nowrap, .table button, .table .key-prefix'))
          .filter((e) => (e as HTMLElement).offsetParent !== null)
          .filter((e) =>
            e.tagName === 'BUTTON'
              ? e.getBoundingClientRect().height > 48
              : e.getClientRects().length > 1,
          )
          .map((e) => e.textContent),
      );
      expect(broken, `${name}: pieces broken over lines`).toEqual([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${name}: wider than the phone`).toBeLessThanOrEqual(0);
    }
  });
}
