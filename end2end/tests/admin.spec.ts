import { execSync } from 'node:child_process';
import { homedir } from 'node:os';
import { test, expect, hydrated } from './fixtures';

// The admin console (issue 12), walked in Chromium: the overview, users (search, a user's
// page, a credit adjustment, a refused one, suspension and reactivation), models and
// prices, the audit log, orders and notifications; screenshots of every page in both
// languages (test-results/screens/admin-*). The overview's charts are islands; every form
// posts without JavaScript and the browser comes back to the page.
//
// The admin account is made with the operator CLI against the portal's database:
// DATABASE_URL (as scripts/test.sh sets it for the server) and RESAYIL_BIN (default: the
// release binary in CARGO_TARGET_DIR).
const databaseUrl = process.env.E2E_DATABASE_URL ?? process.env.DATABASE_URL;
const bin =
  process.env.RESAYIL_BIN ??
  `${process.env.CARGO_TARGET_DIR ?? `${homedir()}/.cache/resayil-target`}/release/resayil`;

function cli(args: string, input = '') {
  return execSync(`${bin} ${args}`, {
    input,
    env: { ...process.env, DATABASE_URL: databaseUrl, RUST_LOG: 'warn' },
  }).toString();
}

function unique(prefix: string) {
  const n = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  return { email: `${prefix}${n}@example.com`, phone: `+9655${n.slice(-7)}` };
}

// Never skipped: scripts/test.sh always sets it, and a missing one must fail, not pass.
if (!databaseUrl) throw new Error('admin.spec needs DATABASE_URL of the running portal (scripts/test.sh sets it)');

test('an admin walks the console in both languages', async ({ page, baseURL }) => {
  const admin = unique('e2eadmin');
  const customer = unique('e2ecust');
  cli(`user create --email ${admin.email} --phone ${admin.phone} --role admin`, 'password123\n');
  cli(`user create --email ${customer.email} --phone ${customer.phone}`, 'password123\n');
  const login = await page.request.post('/api/login', {
    form: { email: admin.email, password: 'password123' },
    headers: { origin: baseURL!, accept: 'application/json' },
  });
  expect(login.ok()).toBeTruthy();
  await page.setViewportSize({ width: 1280, height: 900 });

  for (const lang of ['en', 'ar']) {
    // The overview's charts are the chart island (charming over ECharts), drawn in the
    // browser from the lazily loaded chart chunk, at desktop and phone width.
    const wasm: string[] = [];
    const onResponse = (r: { url(): string }) => {
      if (new URL(r.url()).pathname.endsWith('.wasm')) wasm.push(new URL(r.url()).pathname);
    };
    page.on('response', onResponse);
    for (const [width, height, suffix] of [[1280, 900, ''], [390, 844, '-phone']] as const) {
      await page.setViewportSize({ width, height });
      await page.goto(`/admin?lang=${lang}`);
      await hydrated(page);
      await expect(page.getByTestId('cloud-budget')).toBeVisible();
      await expect(page.locator('[data-testid=users-total]')).toBeVisible();
      for (const id of ['revenue-chart', 'requests-chart']) {
        await expect(page.locator(`#${id} canvas`).first()).toBeVisible();
        await expect(page.getByTestId(`chart-${id}`).getByTestId('chart-table').locator('tbody tr')).toHaveCount(30);
      }
      await page.screenshot({ path: `test-results/screens/admin-overview-${lang}${suffix}.png`, fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `/admin (${lang}, ${width} px) wider than the screen`).toBeLessThanOrEqual(0);
    }
    page.off('response', onResponse);
    expect(wasm.length, 'the main wasm and the chart chunk').toBeGreaterThan(1);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`/admin/users?lang=${lang}&q=${encodeURIComponent(customer.email)}`);
    await expect(page.getByTestId('users').locator('tbody tr')).toHaveCount(1);
    await page.screenshot({ path: `test-results/screens/admin-users-${lang}.png`, fullPage: true });
  }

  // A user's page, in English.
  await page.goto(`/admin/users?lang=en&q=${encodeURIComponent(customer.email)}`);
  await page.getByRole('link', { name: customer.email }).click();
  await expect(page.getByTestId('balance')).toHaveText('100');
  const userUrl = page.url();

  // A refused adjustment: a clear message, nothing changed.
  const adjust = page.getByTestId('adjust-form');
  await adjust.getByLabel('Amount').fill('abc');
  await adjust.getByLabel('Reason (required)').fill('typo');
  await adjust.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByText('Enter a whole number, such as +500 or -200.')).toBeVisible();
  await expect(page.getByTestId('balance')).toHaveText('100');

  // An adjustment: the balance, the ledger and the audit log show it.
  await page.getByTestId('adjust-form').getByLabel('Amount').fill('+250');
  await page.getByTestId('adjust-form').getByLabel('Reason (required)').fill('e2e goodwill');
  await page.getByTestId('adjust-form').getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('balance')).toHaveText('350');
  await expect(page.getByTestId('ledger')).toContainText('e2e goodwill');
  expect(JSON.parse(cli(`user show --email ${customer.email} --json`)).credits).toBe(350);

  // Suspend and reactivate.
  const suspend = page.getByTestId('suspend-form');
  await suspend.getByLabel('Reason (required)').fill('e2e check');
  await suspend.getByRole('button', { name: 'Suspend account' }).click();
  await expect(page.getByTestId('user-status')).toHaveText('Suspended');
  await page.screenshot({ path: 'test-results/screens/admin-user-en.png', fullPage: true });
  await page.getByTestId('suspend-form').getByLabel('Reason (required)').fill('resolved');
  await page.getByTestId('suspend-form').getByRole('button', { name: 'Reactivate account' }).click();
  await expect(page.getByTestId('user-status')).toHaveText('Active');
  await page.goto(`${userUrl.split('?')[0]}?lang=ar`);
  await expect(page.getByTestId('balance')).toBeVisible();
  await page.screenshot({ path: 'test-results/screens/admin-user-ar.png', fullPage: true });

  // Models and prices; the cloud budget form saved as it is.
  for (const lang of ['en', 'ar']) {
    await page.goto(`/admin/models?lang=${lang}`);
    await expect(page.getByTestId('models').locator('tbody tr').first()).toBeVisible();
    await page.screenshot({ path: `test-results/screens/admin-models-${lang}.png`, fullPage: true });
  }
  await page.goto('/admin/models?lang=en');
  await page.getByTestId('budget-form').getByLabel('Reason (optional)').fill('e2e no change');
  await page.getByTestId('budget-form').getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('budget-form')).toBeVisible();

  // The audit log names every action.
  for (const lang of ['en', 'ar']) {
    await page.goto(`/admin/audit?lang=${lang}`);
    const audit = page.getByTestId('audit');
    await expect(audit).toContainText('credits.adjust');
    await expect(audit).toContainText('account.suspend');
    await expect(audit).toContainText('settings.update');
    await page.screenshot({ path: `test-results/screens/admin-audit-${lang}.png`, fullPage: true });
    for (const [name, path] of [['orders', '/admin/orders'], ['notifications', '/admin/notifications']]) {
      await page.goto(`${path}?lang=${lang}`);
      await expect(page.locator('main h1')).toBeVisible();
      await page.screenshot({ path: `test-results/screens/admin-${name}-${lang}.png`, fullPage: true });
    }
  }
});
