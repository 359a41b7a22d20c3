// Bar charts as plain SVG, drawn from the API's decimal strings (lengths from exact
// shares, never float sums). Each chart says the table beside it holds its figures.

import { svg } from "./lib.js";
import { larger, share, toUnits } from "./decimal.js";

export const BUCKET_NAMES = {
  current: "Current", days_1_30: "1–30 days", days_31_60: "31–60 days",
  days_61_90: "61–90 days", days_over_90: "Over 90 days",
};

/** [[key, name, amount]] of an aging total: its own bucket edges, else the fixed five. */
export function agingBuckets(aging) {
  if (aging.buckets && aging.buckets.length) {
    return aging.buckets.map((b) => [b.label, BUCKET_NAMES[b.label] || bucketName(b), b.amount]);
  }
  return Object.keys(BUCKET_NAMES).map((k) => [k, BUCKET_NAMES[k], aging[k]]);
}

function bucketName(bucket) {
  if (bucket.from_days === undefined || bucket.from_days === null) return bucket.label;
  if (bucket.to_days === undefined || bucket.to_days === null) return `Over ${bucket.from_days - 1} days`;
  return bucket.label === "current" ? "Current" : `${bucket.from_days}–${bucket.to_days} days`;
}

/**
 * Bars of `series` (each [label, ...amounts]) on one scale, with a text twin beside it.
 * With `href(i)`, each group of bars is a link (keyboard-reachable) to its details.
 */
export function barChart(title, names, series, href) {
  const width = 640, height = 220, base = 190, top = 10;
  const largest = series.flatMap(([, ...values]) => values).reduce(larger, "0");
  const slot = width / Math.max(series.length, 1);
  const barWidth = Math.min(56, (slot - 12) / names.length);
  const groups = series.map(([label, ...values], i) => {
    const bars = values.map((value, j) => {
      // A bucket that holds anything shows, however small beside the largest.
      const tall = Math.max(((base - top) * share(value, largest)) / 1000, (toUnits(value) ?? 0n) > 0n ? 2 : 0);
      const x = i * slot + (slot - barWidth * names.length) / 2 + j * barWidth;
      return svg("rect", {
        class: j ? "bar-shape second" : "bar-shape", x, y: base - tall,
        width: Math.max(barWidth - 2, 1), height: tall,
      });
    });
    const text = svg("text", { x: i * slot + slot / 2, y: height - 12, "text-anchor": "middle" }, label);
    // A clear target for a click, the whole column tall.
    const target = svg("rect", { class: "bar-target", x: i * slot, y: top, width: slot, height: base - top });
    if (!href) return [...bars, text];
    return svg("a", { href: href(i), "aria-label": `${label}: list its invoices` }, target, bars, text);
  });
  return svg("svg", {
    class: "chart", viewBox: `0 0 ${width} ${height}`, role: href ? "group" : "img",
    "aria-label": `${title}: the table below gives its figures`,
  }, svg("line", { x1: 0, x2: width, y1: base, y2: base, stroke: "#d0d7de" }), groups);
}
