// An SVG of empirical CDFs, one line per series: enough to see medians and tails side by side
// without a plotting dependency.
export function cdfChart(series: Record<string, readonly number[]>, xLabel: string): string {
  const width = 640;
  const height = 360;
  const pad = 50;
  const max = Math.max(...Object.values(series).flat()) * 1.05;
  const colors = ['#1f6feb', '#d1242f', '#2da44e', '#8250df'];
  const x = (ms: number) => pad + ((width - 2 * pad) * ms) / max;
  const y = (q: number) => height - pad - (height - 2 * pad) * q;
  const lines = Object.entries(series).map(([name, values], index) => {
    const sorted = [...values].sort((a, b) => a - b);
    const points = sorted.map((ms, i) => `${x(ms).toFixed(1)},${y((i + 1) / sorted.length).toFixed(1)}`).join(' ');
    const color = colors[index % colors.length];
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/><text x="${width - pad - 250}" y="${height - pad - 80 + 18 * index}" fill="${color}" font-size="13">${name}</text>`;
  });
  const ticks = Array.from({ length: 6 }, (_, i) => (max * i) / 5).map(
    (ms) =>
      `<text x="${x(ms).toFixed(1)}" y="${height - pad + 18}" font-size="11" text-anchor="middle">${ms.toFixed(0)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#888"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="#888"/>
<text x="${width / 2}" y="${height - 12}" font-size="12" text-anchor="middle">${xLabel}</text>
<text x="14" y="${height / 2}" font-size="12" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">fraction of samples</text>
${ticks.join('\n')}
${[0, 0.5, 1].map((q) => `<text x="${pad - 8}" y="${(y(q) + 4).toFixed(1)}" font-size="11" text-anchor="end">${q}</text>`).join('\n')}
${lines.join('\n')}
</svg>
`;
}
