/**
 * The backtest chart: per asset, small multiples (one panel per chain) of utilization over time, the
 * chain's band shaded, one line per planner run (static, greedy, optimal, yield). Built as SVG markup here and rasterized
 * to PNG by resvg (`@resvg/resvg-js`, prebuilt per platform); text uses the system's fonts (DejaVu Sans when
 * present; without any font the text is left out and the PNG is still valid).
 *
 * resvg is a devDependency (a native build tool, not needed by the keeper): a production install
 * (`npm ci --omit=dev`) has no resvg, and the report then carries the SVG instead of the PNG.
 */
import { createRequire } from 'node:module';
import { WAD } from '../planner/types.js';
import type { AssetResult, PlannerName } from './run.js';
import { PLANNER_NAMES } from './planners.js';

/** Width of the chart (px). */
export const CHART_WIDTH_PX = 1600;
const COLS = 4;
const MARGIN = 24;
const GAP_X = 18;
const GAP_Y = 26;
const PANEL_H = 170;
const TITLE_H = 64;
const SECTION_H = 34;
const COLORS: Record<PlannerName, string> = { static: '#9aa0a6', greedy: '#e8710a', optimal: '#1a73e8', yield: '#a142f4' };
const width = (p: PlannerName): number => (p === 'greedy' || p === 'static' ? 3 : 1.5);

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const wadFrac = (w: bigint): number => Number((w * 1_000_000n) / WAD) / 1e6;

/** Means of `xs` over `n` equal buckets (fewer when `xs` is shorter). */
export function downsample(xs: ArrayLike<number>, n: number): number[] {
  const len = xs.length;
  if (len <= n) return Array.from(xs as ArrayLike<number>);
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    const lo = Math.floor((b * len) / n);
    const hi = Math.max(lo + 1, Math.floor(((b + 1) * len) / n));
    let s = 0;
    for (let i = lo; i < hi; i++) s += xs[i]!;
    out.push(s / (hi - lo));
  }
  return out;
}

/**
 * The chart as SVG markup and its size. Utilization is clamped to [0, 100%] for drawing; each line is the
 * mean per horizontal pixel bucket of the step-start utilization.
 */
export function renderUtilizationSvg(results: readonly AssetResult[]): { svg: string; widthPx: number; heightPx: number } {
  const W = CHART_WIDTH_PX;
  const panelW = (W - 2 * MARGIN - (COLS - 1) * GAP_X) / COLS;
  const parts: string[] = [];
  let y = TITLE_H;
  parts.push(`<text x="${MARGIN}" y="30" font-size="20" font-weight="bold">Utilization vs band over time, per planner (backtest)</text>`);
  // Legend.
  const lx = MARGIN;
  parts.push(`<rect x="${lx}" y="42" width="22" height="10" fill="#34a853" fill-opacity="0.18" stroke="#34a853" stroke-opacity="0.6"/>`);
  parts.push(`<text x="${lx + 28}" y="52" font-size="13">band</text>`);
  let off = lx + 80;
  for (const p of PLANNER_NAMES.filter((x) => results.some((a) => a.runs[x] !== undefined))) {
    parts.push(`<line x1="${off}" y1="47" x2="${off + 24}" y2="47" stroke="${COLORS[p]}" stroke-width="${width(p)}"/>`);
    parts.push(`<text x="${off + 30}" y="52" font-size="13">${p}</text>`);
    off += 110;
  }
  for (const a of results) {
    parts.push(
      `<text x="${MARGIN}" y="${y + 22}" font-size="16" font-weight="bold">${esc(`${a.symbol}${a.source === 'synthetic' ? ' (SYNTHETIC history)' : ''}: ${a.networks.length} chains, ${a.days} days (${a.firstDay} .. ${a.lastDay}), step ${a.stepSec} s`)}</text>`,
    );
    y += SECTION_H;
    const runs = PLANNER_NAMES.filter((p) => a.runs[p] !== undefined);
    const anyRun = a.runs[runs[0]!]!;
    a.networks.forEach((chain, i) => {
      const col = i % COLS;
      const row = Math.floor(i / COLS);
      const x0 = MARGIN + col * (panelW + GAP_X);
      const y0 = y + row * (PANEL_H + GAP_Y);
      const plotX = x0 + 34;
      const plotW = panelW - 40;
      const plotY = y0 + 18;
      const plotH = PANEL_H - 36;
      const yOf = (u: number): number => plotY + plotH * (1 - Math.min(1, Math.max(0, u)));
      const band = anyRun.perChain.find((c) => c.chain === chain)!.band;
      parts.push(`<rect x="${plotX}" y="${plotY}" width="${plotW}" height="${plotH}" fill="#ffffff" stroke="#bbbbbb"/>`);
      const bh = yOf(wadFrac(band.lowWad)) - yOf(wadFrac(band.highWad));
      parts.push(`<rect x="${plotX}" y="${yOf(wadFrac(band.highWad)).toFixed(1)}" width="${plotW}" height="${bh.toFixed(1)}" fill="#34a853" fill-opacity="0.18"/>`);
      for (const g of [0, 0.5, 1]) {
        parts.push(`<line x1="${plotX}" y1="${yOf(g).toFixed(1)}" x2="${plotX + plotW}" y2="${yOf(g).toFixed(1)}" stroke="#dddddd" stroke-width="0.8"/>`);
        parts.push(`<text x="${plotX - 4}" y="${(yOf(g) + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#555555">${g * 100}%</text>`);
      }
      for (const p of runs) {
        const s = a.runs[p]!.series[chain];
        if (s === undefined || s.length === 0) continue;
        const pts = downsample(s, Math.max(2, Math.floor(plotW)));
        const d = pts.map((u, k) => `${k === 0 ? 'M' : 'L'}${(plotX + (k * plotW) / Math.max(1, pts.length - 1)).toFixed(1)},${yOf(u).toFixed(1)}`).join('');
        // Greedy drawn wider underneath, so it still shows where the optimal run follows the same path.
        parts.push(`<path d="${d}" fill="none" stroke="${COLORS[p]}" stroke-width="${width(p)}" stroke-opacity="${width(p) > 2 ? 0.7 : 1}"/>`);
      }
      parts.push(`<text x="${x0 + 34}" y="${y0 + 13}" font-size="13" font-weight="bold">${esc(chain)}</text>`);
      parts.push(`<text x="${plotX}" y="${plotY + plotH + 13}" font-size="10" fill="#555555">day 0</text>`);
      parts.push(`<text x="${plotX + plotW}" y="${plotY + plotH + 13}" font-size="10" text-anchor="end" fill="#555555">day ${a.days}</text>`);
    });
    y += Math.ceil(a.networks.length / COLS) * (PANEL_H + GAP_Y) + 6;
  }
  const H = Math.ceil(y + MARGIN);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">` +
    `<rect width="${W}" height="${H}" fill="#fafafa"/>${parts.join('')}</svg>`;
  return { svg, widthPx: W, heightPx: H };
}

/** resvg's module, or undefined when the package is not installed (a production install). */
function loadResvg(): typeof import('@resvg/resvg-js') | undefined {
  try {
    return createRequire(import.meta.url)('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

/**
 * The chart as PNG bytes (resvg, at the SVG's own size); `png` is undefined when resvg is not installed
 * (`npm ci --omit=dev`): the caller writes the SVG instead.
 * @throws Error when resvg is installed but cannot load (no prebuilt binary for this platform: reinstall with npm).
 */
export function renderUtilizationPng(results: readonly AssetResult[]): { png: Buffer | undefined; widthPx: number; heightPx: number; svg: string } {
  const { svg, widthPx, heightPx } = renderUtilizationSvg(results);
  const resvg = loadResvg();
  if (!resvg) return { png: undefined, widthPx, heightPx, svg };
  const r = new resvg.Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: '#fafafa' });
  const img = r.render();
  return { png: img.asPng(), widthPx: img.width, heightPx: img.height, svg };
}
