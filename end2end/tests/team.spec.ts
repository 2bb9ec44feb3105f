import { execFileSync } from 'node:child_process';
import { test, expect, hydrated, uniqueUser, register } from './fixtures';

// TEAM-01..04 end to end: an Enterprise owner names a team and invites an address nobody
// has registered yet, and is shown the invitation's code and link once; the invitee
// registers (nothing about the invitation is shown to whoever registers the address),
// opens the link, joins with the pre-filled code, creates a team key and calls the API
// with it (the official OpenAI Python SDK when RESAYIL_SDK_PYTHON is set, else fetch);
// the owner sees the member's usage, removes the member, and the key gets 401.

const py = process.env.RESAYIL_SDK_PYTHON;

/** One chat completion with `key`: "200 <credits-free tokens>" or "401 <code>". */
async function callApi(baseURL: string, key: string): Promise<string> {
  const base = `${baseURL}/v1`;
  if (py) {
    const script = `
import os, openai
c = openai.OpenAI(base_url=os.environ["BASE"], api_key=os.environ["KEY"], max_retries=0)
try:
    r = c.chat.completions.create(model="llama3.2:3b", messages=[{"role": "user", "content": "Hi"}])
    print("200", r.usage.total_tokens)
except openai.AuthenticationError as e:
    print("401", e.code)
`;
    return execFileSync(py, ['-c', script], { env: { ...process.env, BASE: base, KEY: key } })
      .toString()
      .trim();
  }
  const res = await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'Hi' }] }),
  });
  const body = await res.json();
  return res.status === 200 ? `200 ${body.usage.total_tokens}` : `${res.status} ${body.error?.code}`;
}

// The owner's invalid invitation is answered 422 (the form shows the message).
test.use({ expectedConsoleErrors: [/status of 422/] });

test('owner invites, member accepts, uses a team key on the owner’s credits, is removed', async ({
  page,
  browser,
  baseURL,
}) => {
  test.setTimeout(120_000);
  // The owner: registered and on Enterprise (local test gateway).
  const owner = uniqueUser();
  await register(page, owner);
  await page.goto('/billing');
  await hydrated(page);
  await page.getByTestId('buy-enterprise-knet').click();
  await expect(page).toHaveURL(/\/billing\/test-pay\/\d+$/);
  await hydrated(page);
  await page.getByTestId('test-pay').click();
  await expect(page.getByTestId('payment-result')).toHaveAttribute('data-status', 'paid');

  await page.goto('/team?lang=en');
  await hydrated(page);
  await page.getByLabel('Team name').fill('Acme AI');
  await page.getByRole('button', { name: 'Create team' }).click();
  await expect(page.getByTestId('team-name')).toHaveText('Acme AI');
  await expect(page.getByTestId('team-role')).toHaveText('Owner');

  // A bad address is refused plainly and changes nothing (the invite form is an island).
  await hydrated(page);
  await page.getByLabel('Email', { exact: true }).fill('a@b');
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await expect(page.getByText('Enter a valid email address.')).toBeVisible();
  await expect(page.getByTestId('pending-invitations')).toHaveCount(0);

  // The member has no account yet: the owner gets a code and a link, shown once, to give
  // to the member themselves.
  const member = uniqueUser();
  await page.getByLabel('Email', { exact: true }).fill(member.email);
  await page.getByRole('button', { name: 'Send invitation' }).click();
  const box = page.getByTestId('invite-code-box');
  await expect(box).toContainText(member.email);
  await expect(box).toContainText('give the link or the code to the person yourself');
  const code = ((await page.getByTestId('invite-code').textContent()) ?? '').trim();
  const link = ((await page.getByTestId('invite-link').textContent()) ?? '').trim();
  expect(code).toMatch(/^[A-Za-z0-9_-]{32}$/);
  expect(link).toMatch(new RegExp(`/team\\?invite=${code}$`));
  await page.screenshot({ path: 'test-results/screens/team-invite-code-en.png', fullPage: true });
  await box.getByRole('link', { name: 'Done' }).click();
  await expect(page.getByTestId('pending-invitations')).toContainText(member.email);
  await expect(page.getByTestId('pending-invitations').getByTestId('needs-code')).toBeVisible();
  // The code is not shown again.
  await expect(page.getByTestId('invite-code')).toHaveCount(0);

  // The member registers with the invited address: nothing about the invitation is
  // shown to whoever registers an address (addresses are not verified).
  const memberContext = await browser.newContext();
  const mp = await memberContext.newPage();
  mp.on('console', (m) => {
    if (m.type() === 'error') throw new Error(`member console error: ${m.text()}`);
  });
  await register(mp, member);
  await expect(mp.getByTestId('dashboard-invitations')).toHaveCount(0);
  // The link opens /team with the code filled in (Arabic first, for the screenshot).
  const target = new URL(link);
  await mp.goto(`${target.pathname}${target.search}&lang=ar`);
  await expect(mp.getByTestId('join-with-code')).toBeVisible();
  await expect(mp.locator('#f-code')).toHaveValue(code);
  await mp.screenshot({ path: 'test-results/screens/team-join-code-ar.png', fullPage: true });
  await mp.goto(`${target.pathname}${target.search}&lang=en`);
  await expect(mp.getByLabel('Invitation code')).toHaveValue(code);
  await mp.getByRole('button', { name: 'Join team' }).click();
  await expect(mp.getByTestId('team-name')).toHaveText('Acme AI');
  await expect(mp.getByTestId('team-role')).toHaveText('Member');
  // A member cannot invite.
  await expect(mp.getByRole('button', { name: 'Send invitation' })).toHaveCount(0);

  // A team key, shown once.
  await hydrated(mp);
  await mp.getByLabel('Label').fill('ci');
  await mp.getByRole('button', { name: 'Create key' }).click();
  const key = (await mp.getByTestId('new-team-key').textContent()) ?? '';
  expect(key).toMatch(/^rsl_/);

  const first = await callApi(baseURL!, key);
  expect(first).toMatch(/^200 /);

  // The owner sees the member's usage (written within a fraction of a second).
  const row = page.locator(`tr[data-member="${member.email}"]`);
  await expect(async () => {
    await page.goto('/team?lang=en');
    // Short, so each try loads the page again: usage is written by the batched writer a
    // moment after the answer, and a page loaded before that shows 0 until reloaded.
    await expect(row.getByTestId('member-requests')).toHaveText('1', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  const credits = Number(await row.getByTestId('member-credits').textContent());
  expect(credits).toBeGreaterThan(0);

  // Screenshots of the owner's page, Arabic and English, desktop and phone.
  await hydrated(page);
  for (const [lang, width] of [
    ['en', 1280],
    ['ar', 1280],
    ['en', 390],
    ['ar', 390],
  ] as const) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`/team?lang=${lang}`);
    await hydrated(page);
    await page.screenshot({ path: `test-results/screens/team-owner-${lang}-${width}.png`, fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `/team (${lang}, ${width} px) wider than the screen`).toBeLessThanOrEqual(0);
  }
  await mp.goto('/team?lang=ar');
  await hydrated(mp);
  await mp.screenshot({ path: 'test-results/screens/team-member-ar.png', fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  // Removal: the member's team key stops at once.
  await page.goto('/team?lang=en');
  await row.getByRole('button', { name: 'Remove' }).click();
  await expect(page.locator(`tr[data-member="${member.email}"]`)).toHaveCount(0);
  expect(await callApi(baseURL!, key)).toBe('401 invalid_api_key');
  await mp.goto('/team?lang=en');
  await expect(mp.getByTestId('no-team')).toBeVisible();
  await memberContext.close();
});
