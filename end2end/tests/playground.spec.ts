import { test, expect, hydrated, uniqueUser, register } from './fixtures';

// The playground streams from the fake Ollama the test run starts (OLLAMA_URL), charged
// like the API. A model outside the plan is refused by the gateway (403, which Chromium
// logs as a failed resource: announced here).
test.use({ expectedConsoleErrors: [/status of 403/] });

const texts = {
  en: { plan: 'does not include this model', send: 'Send' },
  ar: { plan: 'غير متاح في باقتك', send: 'إرسال' },
};

for (const lang of ['en', 'ar'] as const) {
  test(`the playground streams an answer token by token and shows its cost (${lang})`, async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await register(page, uniqueUser(), lang);
    await page.goto(`/playground?lang=${lang}`);
    await hydrated(page);
    await expect(page.locator('html')).toHaveAttribute('lang', lang);

    // Record every text the streaming answer shows, to see it grow piece by piece.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as any).__seen = seen;
      new MutationObserver(() => {
        const s = document.querySelector('[data-testid=streaming] .content');
        if (s && s.textContent) seen.push(s.textContent.length);
      }).observe(document.querySelector('[data-testid=conversation]')!, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    await page.getByTestId('max-tokens').fill('40');
    await page.getByTestId('prompt').fill(lang === 'ar' ? 'مرحبا، كيف حالك؟' : 'Hello, how are you?');
    await page.getByTestId('send').click();

    const answer = page.getByTestId('msg-assistant');
    await expect(answer).toHaveCount(1);
    await expect(answer.locator('.content')).not.toBeEmpty();
    const cost = page.getByTestId('answer-cost');
    await expect(cost).toBeVisible();
    const credits = Number(await cost.getAttribute('data-credits'));
    expect(credits).toBeGreaterThanOrEqual(1);
    const balance = (await page.getByTestId('balance-after').textContent())!;
    // 100 welcome credits less this answer, in the page's digits.
    const expected = 100 - credits;
    const digits = lang === 'ar' ? String(expected).replace(/\d/g, (d) => '٠١٢٣٤٥٦٧٨٩'[Number(d)]) : String(expected);
    expect(balance.trim()).toBe(digits);
    const seen: number[] = await page.evaluate(() => (window as any).__seen);
    expect(new Set(seen.filter((n) => n > 0)).size, 'the answer grew piece by piece').toBeGreaterThan(2);

    // The same request as code, with a placeholder key.
    await expect(page.getByTestId('curl')).toContainText('/v1/chat/completions');
    await expect(page.getByTestId('curl')).toContainText('$RESAYIL_API_KEY');
    await expect(page.getByTestId('python')).toContainText('YOUR_RESAYIL_API_KEY');
    await page.screenshot({ path: `test-results/screens/playground-${lang}.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `test-results/screens/playground-${lang}-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });

    // A model the plan does not include: a clear message, the question kept.
    await page.getByTestId('model').selectOption('gpt-oss:20b');
    await page.getByTestId('prompt').fill('Hi');
    await page.getByTestId('send').click();
    await expect(page.getByTestId('playground-error')).toContainText(texts[lang].plan);
    await expect(page.getByTestId('prompt')).toHaveValue('Hi');
    await expect(page.getByTestId('msg-assistant')).toHaveCount(1);

    // The header's top-up button leads to the packs.
    await page.getByTestId('header-top-up').click();
    await expect(page).toHaveURL(/\/billing#packs$/);
    await expect(page.locator('#packs')).toBeVisible();
  });
}
