import { test, expect, hydrated, uniqueUser, register } from './fixtures';

// The usage chart on the dashboard (charming over ECharts, issue 11) and the usage page,
// in English and Arabic, with screenshots at desktop and phone width. API calls made with
// a new key (to a model that does not exist: refused, but counted) show up in both.
for (const lang of ['en', 'ar']) {
  test(`usage chart on the dashboard and the usage page (${lang})`, async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await register(page, uniqueUser(), lang);

    await page.goto(`/keys?lang=${lang}`);
    await hydrated(page);
    await page.locator('input[name=label]').fill('e2e-chart');
    await page.locator('form button[type=submit]').first().click();
    const secret = (await page.getByTestId('new-key').textContent())!.trim();
    for (let i = 0; i < 3; i++) {
      const res = await page.request.post('/v1/chat/completions', {
        headers: { authorization: `Bearer ${secret}` },
        data: { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(res.status()).toBe(404);
    }

    // ECharts is loaded on the dashboard only after the page's own content.
    const echarts: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/echarts/')) echarts.push(r.url());
    });
    // The rows are written a moment after the answers.
    await expect
      .poll(async () => {
        await page.goto(`/dashboard?lang=${lang}&period=day`);
        await hydrated(page);
        return page.getByTestId('chart-table').textContent();
      })
      .toContain('no-such-model');
    expect(echarts.length).toBeGreaterThan(0);
    await expect(page.locator('#usage-chart canvas').first()).toBeVisible();
    const three = lang === 'ar' ? '٣' : '3';
    await expect(page.getByTestId('chart-table')).toContainText(three);
    await expect(page.getByTestId('period-day')).toHaveAttribute('aria-current', 'true');
    await page.screenshot({ path: `test-results/screens/usage-chart-${lang}.png`, fullPage: true });

    // Switching the period asks the server again without leaving the page.
    await page.getByTestId('period-week').click();
    await expect(page.getByTestId('period-week')).toHaveAttribute('aria-current', 'true');
    await expect(page).toHaveURL(/period=day/);
    await expect(page.getByTestId('chart-table').locator('tbody tr')).toHaveCount(7);
    await page.getByTestId('period-month').click();
    await expect(page.getByTestId('chart-table').locator('tbody tr')).toHaveCount(30);
    await page.getByTestId('metric-credits').click();
    await expect(page.getByTestId('metric-credits')).toHaveAttribute('aria-pressed', 'true');
    // Hovering the chart shows its tooltip (drawn on the canvas) without errors.
    const box = (await page.locator('#usage-chart').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('period-day').click();
    await expect(page.getByTestId('period-day')).toHaveAttribute('aria-current', 'true');
    await page.screenshot({ path: `test-results/screens/usage-chart-${lang}-phone.png`, fullPage: true });

    // The usage page: the three requests, the summary, the CSV link.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`/usage?lang=${lang}`);
    await expect(page.getByTestId('usage-rows').locator('tbody tr')).toHaveCount(3);
    await expect(page.getByTestId('usage-summary')).toContainText('no-such-model');
    await expect(page.getByTestId('usage-csv')).toHaveAttribute('href', /\/usage\/export\.csv\?from=/);
    await page.screenshot({ path: `test-results/screens/usage-${lang}.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `test-results/screens/usage-${lang}-phone.png`, fullPage: true });
    await page.goto(`/usage?lang=${lang}&page=9`);
    await expect(page.getByTestId('usage-problem')).toBeVisible();

    // Pages without charts never load ECharts.
    echarts.length = 0;
    for (const path of ['/', '/login', '/keys', '/billing', '/usage']) {
      await page.goto(`${path}?lang=${lang}`);
      await hydrated(page);
    }
    expect(echarts).toEqual([]);
  });
}
