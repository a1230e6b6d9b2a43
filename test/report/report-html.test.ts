import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { renderLatencyChartSvg } from '../../harness/report/latency-chart-svg.ts';
import { writeReportFolder } from '../../harness/report/report-folder.ts';
import { renderReportHtml } from '../../harness/report/report-html.ts';
import { buildFixture, buildGoFixture, buildReport, makeTempDir, removeTempDirs } from './fixture-report.ts';

afterAll(removeTempDirs);

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Runs in the page (tsconfig has no DOM lib, hence the cast). */
function backgroundColor(element: unknown): string {
  const view = globalThis as unknown as { getComputedStyle(element: unknown): { backgroundColor: string } };
  return view.getComputedStyle(element).backgroundColor;
}

describe('report.html (SPEC §5), as markup', () => {
  it('is self-contained: no script, stylesheet link, frame, image or remote URL, and a CSP that forbids requests', () => {
    const { report, parityReport } = buildFixture();
    const html = renderReportHtml(report, { parityReport });
    expect(html).not.toMatch(/<(script|link|iframe|img|object|embed|video|audio|source|base)\b/i);
    expect(html).not.toMatch(/\b(src|srcset|href|action|poster|xlink:href)\s*=\s*["']?\s*(https?:|\/\/|data:)/i);
    expect(html).not.toMatch(/url\(|@import|@font-face/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src &apos;none&apos;; style-src &apos;unsafe-inline&apos;; img-src data:; base-uri &apos;none&apos;; form-action &apos;none&apos;">`);
  });

  it('shows the decision, failing checks with evidence links, lanes, the latency chart and parity diffs', () => {
    const { report, parityReport } = buildFixture();
    const html = renderReportHtml(report, { parityReport });
    expect(html).toContain('<p class="decision" data-decision="NO-GO">NO-GO</p>');
    expect(html).toContain('class="banner no-go"');
    expect(html).toContain('<a class="mono" href="logs/khala.k6.budget-boundary.log">logs/khala.k6.budget-boundary.log</a>');
    expect(html).toContain('<h2>Failing checks (4)</h2>');
    expect(html).toContain('<svg class="latency-chart"');
    expect(html).toContain('<h2>Parity diffs (2)</h2>');
    expect(html).toContain('$.settle.fee_sats');
    expect(renderReportHtml(report)).not.toContain('id="parity"');
  });

  it('shows the latency and replay samples the lanes took: n, p50, p99 and max per series', () => {
    const { report } = buildFixture();
    const replays = Array.from({ length: 100 }, (_, i) => i + 1);
    const html = renderReportHtml(report, { samples: { 'khala: WS replay from seq 0 to head': replays, 'GET /healthz': [3, 4], empty: [] } });
    const section = html.split('<section id="samples">')[1]!.split('</section>')[0]!;
    expect(section).toContain('<h2>Latency and replay samples</h2>');
    // Sorted by label; an empty series is left out.
    expect(section.indexOf('GET /healthz')).toBeLessThan(section.indexOf('khala: WS replay from seq 0 to head'));
    expect(section).not.toContain('<td>empty</td>');
    const replayRow = section.split('khala: WS replay from seq 0 to head</td>')[1]!.split('</tr>')[0]!;
    expect(replayRow).toMatch(/^<td>100<\/td><td>50 ms<\/td><td>99 ms<\/td><td>100 ms<\/td>/);
    expect(renderReportHtml(report)).not.toContain('id="samples"');
    expect(renderReportHtml(report, { samples: {} })).toContain('No timing samples were taken in this run.');
  });

  it('draws the slowest checks of a lane and counts the rest, with an axis that covers the slowest', () => {
    const checks = Array.from({ length: 30 }, (_, i) => ({
      check_id: `khala.load.c${i}`,
      lane: 'khala' as const,
      required: 'optional' as const,
      status: 'passed' as const,
      duration_ms: i * 1000,
      description: '',
      log_path: '',
      detail: '',
    }));
    const svg = renderLatencyChartSvg(checks, { maxBarsPerLane: 5 });
    expect(svg.match(/<rect [^>]*fill="#1a7f37"\/>/g)).toHaveLength(5 + 1);
    expect(svg).toContain('>load.c29</text>');
    expect(svg).not.toContain('>load.c24</text>');
    expect(svg).toContain('25 faster checks not drawn');
    expect(svg).toContain('>30.0 s</text>');
    expect(renderLatencyChartSvg([])).toContain('No checks ran.');
  });

  it('escapes whatever a check reports', () => {
    const report = buildReport([
      { check_id: 'health.a.xss', lane: 'health', required: 'required', status: 'failed', duration_ms: 1, description: '', log_path: '', detail: '<script>alert(1)</script><img src=x onerror=alert(2)>' },
    ]);
    const html = renderReportHtml(report);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(html).not.toMatch(/<script|<img/);
  });
});

describe('report.html in headless Chromium', () => {
  it('renders the NO-GO banner and chart without any network request (screenshot kept for review)', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      // CI installs chromium (.ci/run): there a missing browser is a failure, not a skip.
      if (process.env.CI) throw new Error(`${CHROMIUM} not found although CI=true: .ci/run should have installed Debian's chromium`);
      const reason = `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) to run this test`;
      process.stdout.write(`skipping report.html browser test: ${reason}\n`);
      ctx.skip(reason);
      return;
    }
    const noGo = buildFixture();
    const noGoDir = join(makeTempDir('html'), 'no-go');
    writeReportFolder(noGoDir, noGo.report, { logs: noGo.logs, parityReport: noGo.parityReport });
    const go = buildGoFixture();
    const goDir = join(makeTempDir('html'), 'go');
    writeReportFolder(goDir, go.report, { logs: go.logs });
    // Kept after the run (not in the cleaned temp dirs) so a person can look at it.
    const screenshotDir = mkdtempSync(join(tmpdir(), 'runtime-gate-report-html-'));

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    try {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      const consoleErrors: string[] = [];
      context.on('request', (request) => requests.push(request.url()));
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      page.on('websocket', (socket) => requests.push(socket.url()));

      await page.goto(pathToFileURL(join(noGoDir, 'report.html')).href, { waitUntil: 'load' });
      expect((await page.locator('#decision .decision').innerText()).trim()).toBe('NO-GO');
      expect(await page.locator('#decision').evaluate(backgroundColor)).toBe('rgb(207, 34, 46)');
      const decisionBox = await page.locator('#decision .decision').boundingBox();
      expect(decisionBox?.y).toBeLessThan(100);
      expect(decisionBox?.height).toBeGreaterThan(50);
      const chart = page.locator('svg.latency-chart');
      expect(await chart.isVisible()).toBe(true);
      expect((await chart.boundingBox())?.height).toBeGreaterThan(100);
      expect(await chart.locator('rect').count()).toBeGreaterThanOrEqual(10);
      expect(await page.locator('#failing-checks tbody tr').count()).toBe(4);
      expect(await page.locator('#parity tbody tr').count()).toBe(2);
      const screenshot = join(screenshotDir, 'report-no-go.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(readFileSync(screenshot).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(statSync(screenshot).size).toBeGreaterThan(20_000);

      await page.goto(pathToFileURL(join(goDir, 'report.html')).href, { waitUntil: 'load' });
      expect((await page.locator('#decision .decision').innerText()).trim()).toBe('GO');
      expect(await page.locator('#decision').evaluate(backgroundColor)).toBe('rgb(26, 127, 55)');
      await page.screenshot({ path: join(screenshotDir, 'report-go.png'), fullPage: true });

      expect(requests.length).toBeGreaterThanOrEqual(2);
      expect(requests.filter((url) => !url.startsWith('file:') && !url.startsWith('data:'))).toEqual([]);
      expect(consoleErrors).toEqual([]);
      process.stdout.write(`report.html screenshots: ${screenshotDir}/report-no-go.png, ${screenshotDir}/report-go.png\n`);
    } finally {
      await browser.close();
    }
  });
});
