import { test, expect, hydrated, uniqueUser, register } from './fixtures';

// Screenshots for people to look at (test-results/screens), in both languages and on a
// phone-sized screen. They assert only that the pages render (and their islands hydrate) without errors.
for (const lang of ['en', 'ar']) {
  test(`register and dashboard screenshots (${lang})`, async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`/register?lang=${lang}`);
    await hydrated(page);
    await page.screenshot({ path: `test-results/screens/register-${lang}.png`, fullPage: true });
    await register(page, uniqueUser(), lang);
    await expect(page.getByTestId('balance')).toBeVisible();
    await page.screenshot({ path: `test-results/screens/dashboard-${lang}.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `test-results/screens/dashboard-${lang}-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    for (const [name, path] of [['landing', '/'], ['keys', '/keys'], ['billing', '/billing']]) {
      await page.goto(path);
      await hydrated(page);
      await page.screenshot({ path: `test-results/screens/${name}-${lang}.png`, fullPage: true });
    }
  });
}
