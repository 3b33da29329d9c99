/**
 * The scaling bench's chart: throughput against stores, one line per
 * workload, drawn by vega-lite and rendered to SVG headless by vega (no
 * browser, no canvas).
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';

export interface ChartPoint {
  readonly workload: string;
  readonly stores: number;
  readonly reqPerSec: number;
}

export async function scalingChartSvg(points: readonly ChartPoint[], title: string): Promise<string> {
  const spec = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 260,
    data: { values: points.map((p) => ({ ...p })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'stores', type: 'quantitative', title: 'stores', axis: { values: [...new Set(points.map((p) => p.stores))] }, scale: { zero: true } },
      y: { field: 'reqPerSec', type: 'quantitative', title: 'requests/s', scale: { zero: true } },
      color: { field: 'workload', type: 'nominal', title: 'workload' },
    },
  }).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
