import { test, expect } from './fixtures';

// The public pages in both languages, at phone and desktop width: they render without
// JavaScript errors, load no wasm, the copy buttons work, the call to action keeps the
// language, and screenshots land in test-results/screens for people to look at.
for (const lang of ['ar', 'en']) {
  test(`landing page and docs (${lang})`, async ({ page, context }) => {
    const wasm: string[] = [];
    page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasm.push(r.url()); });
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`/?lang=${lang}`);
    await expect(page.locator('html')).toHaveAttribute('lang', lang);
    await expect(page.getByTestId('plan-pro')).toBeVisible();
    await expect(page.getByTestId('pack-pack-5k')).toBeVisible();
    const copy = page.locator('button[data-copy="ex-python"]');
    await expect(copy).toBeVisible();
    await copy.click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain('from openai import OpenAI');
    await page.screenshot({ path: `test-results/screens/home-${lang}.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `test-results/screens/home-${lang}-phone.png`, fullPage: true });
    const noHorizontalScroll = await page.evaluate(
      () => document.documentElement.scrollWidth <= window.innerWidth + 1,
    );
    expect(noHorizontalScroll, 'no sideways scrolling on a phone').toBe(true);

    await page.goto(`/docs?lang=${lang}`);
    await expect(page.getByTestId('error-table')).toBeVisible();
    await page.screenshot({ path: `test-results/screens/docs-${lang}-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: `test-results/screens/docs-${lang}.png`, fullPage: true });

    expect(wasm, 'the public pages load no wasm').toEqual([]);
    // The call to action leads to registration in the same language (checked without
    // loading the registration page's islands: this spec is about the public pages).
    await page.goto(`/?lang=${lang}`);
    const href = await page.getByTestId('cta').getAttribute('href');
    expect(href).toBe(`/register?lang=${lang}`);
    const register = await page.request.get(href!);
    expect(await register.text()).toContain(`<html lang="${lang}"`);
  });
}
