import { gzipSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Page } from '@playwright/test';
import { test, expect, hydrated, uniqueUser, register } from './fixtures';

// The wasm each page loads, measured as the browser fetches it and gzip-compressed
// (issue 10, item 7; issue 11; BENCHMARKS.md; scripts/wasm-size.sh). Targets: at most 50 KB
// on the landing page (none is better) and 250 KB on every other page, the chart page
// (the dashboard: usage chart and chart drawing) included.
//
// Every island is lazy (`#[island(lazy)]`) and the chart drawing (charming,
// app/src/components/chart.rs) a `#[lazy]` function, built with `cargo leptos … --split`:
// the main wasm holds what all islands share (the reactive runtime, the DOM renderer),
// each island's own code is a chunk of its own (`split_<island>_loader_….wasm`, with
// `chunk_N.wasm` for code some islands share), fetched when the page has that island; the
// chart drawing (`split_render_….wasm`) only when a chart draws. The dashboard's key list
// is rendered on the server (its delete posts a plain form), so the dashboard loads the
// usage chart's island and the chart drawing only, never the key manager.
//
// Measured 2026-12-05 (BENCHMARKS.md "Keys and dashboard under 250 KB"): login 204,593 B,
// register 203,912, keys 216,391, billing 191,263, playground 197,253; the dashboard
// (usage chart + chart drawing) 240,828. Every page is held to the target itself.
const KB = 1024;
const FORMS_TARGET = 250 * KB;
const CHART_PAGE_TARGET = 250 * KB;
const MAIN = '/pkg/resayil.wasm';
const CHART_CHUNK = /^\/pkg\/split_render_[^/]*\.wasm$/;
const CHUNK = /^\/pkg\/(split_[A-Za-z0-9_]+|chunk_[0-9]+)\.wasm$/;
const KEY_MANAGER = /^\/pkg\/split_key_manager_loader_[^/]*\.wasm$/;

type Loaded = { files: string[]; gzip: number };

async function wasmLoaded(page: Page, path: string): Promise<Loaded> {
  // From a blank page: no late chunk of the previous page (its islands load theirs in
  // parallel) is counted for this one, nor read after it was navigated away from.
  await page.goto('about:blank');
  const bodies: Promise<Buffer>[] = [];
  const files: string[] = [];
  const onResponse = (res: { url(): string; body(): Promise<Buffer> }) => {
    const name = new URL(res.url()).pathname;
    if (name.endsWith('.wasm')) {
      files.push(name);
      bodies.push(res.body());
    }
  };
  page.on('response', onResponse);
  await page.goto(path);
  await hydrated(page);
  await page.waitForLoadState('networkidle');
  page.off('response', onResponse);
  const all = await Promise.all(bodies);
  return { files, gzip: all.reduce((sum, b) => sum + gzipSync(b, { level: 9 }).length, 0) };
}

test('pages load no more wasm than their targets', async ({ page }) => {
  const loaded: Record<string, Loaded> = {};
  for (const path of ['/?lang=en', '/login?lang=en', '/register?lang=en']) {
    loaded[path] = await wasmLoaded(page, path);
  }
  await register(page, uniqueUser());
  for (const path of ['/keys', '/billing', '/playground', '/dashboard']) {
    loaded[path] = await wasmLoaded(page, path);
  }
  // The chart drew: it needed the chunk.
  await expect(page.locator('#usage-chart canvas').first()).toBeVisible();
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/wasm-sizes.json', JSON.stringify(loaded, null, 2));
  console.log('wasm per page (gzip bytes):', JSON.stringify(loaded));

  expect(loaded['/?lang=en'].gzip).toBeLessThanOrEqual(50 * KB);
  const forms = ['/login?lang=en', '/register?lang=en', '/keys', '/billing', '/playground'];
  for (const path of forms) {
    // The islands that make these pages interactive did load: the main wasm and their
    // own chunks, never the chart drawing.
    const { files } = loaded[path];
    expect(files[0], path).toBe(MAIN);
    expect(files.length, `${path}: its islands' chunks`).toBeGreaterThan(1);
    for (const f of files.slice(1)) {
      expect(f, path).toMatch(CHUNK);
      expect(f, path).not.toMatch(CHART_CHUNK);
    }
    expect(loaded[path].gzip, path).toBeGreaterThan(0);
    expect(loaded[path].gzip, path).toBeLessThanOrEqual(FORMS_TARGET);
  }
  expect(loaded['/keys'].files.some((f) => KEY_MANAGER.test(f)), '/keys: the key manager').toBe(true);
  // A chart page loads the main wasm and the chart chunk; the dashboard's key list is no
  // island, so not the key manager.
  const chart = loaded['/dashboard'];
  expect(chart.files[0]).toBe(MAIN);
  expect(chart.files.some((f) => CHART_CHUNK.test(f)), 'the chart chunk').toBe(true);
  expect(chart.files.filter((f) => KEY_MANAGER.test(f)), 'the dashboard: no key manager').toEqual([]);
  expect(chart.gzip).toBeGreaterThan(loaded['/billing'].gzip);
  expect(chart.gzip).toBeLessThanOrEqual(CHART_PAGE_TARGET);
});
