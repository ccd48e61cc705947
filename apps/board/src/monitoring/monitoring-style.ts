import { SafeHtml } from './html.js';

/** The monitoring page's style sheet (a constant: inserted unescaped into `<style>`). */
export const MONITORING_CSS = new SafeHtml(`
:root { color-scheme: light; --fg: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bg: #f5f7fa; --card: #fff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1.2rem; background: #1f2933; color: #fff; }
header.top a { color: #fff; text-decoration: none; }
header.top .brand { font-weight: 700; font-size: 1.1rem; }
header.top nav { display: flex; gap: .9rem; }
header.top nav a { opacity: .8; }
header.top nav a[aria-current="page"] { opacity: 1; border-bottom: 2px solid #fff; }
header.top .meta { margin-left: auto; opacity: .75; font-size: .85rem; }
main { max-width: 1400px; margin: 0 auto; padding: 1rem 1.2rem 3rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; margin-bottom: 1rem; overflow-x: auto; }
h2 { font-size: 1.15rem; margin: .2rem 0 .5rem; }
h2 small { font-weight: 400; color: var(--muted); font-size: .85rem; }
.muted { color: var(--muted); }
.none { color: var(--muted); font-style: italic; }
.count { display: inline-block; min-width: 1.6em; padding: 0 .4em; border-radius: 1em; background: var(--line); font-size: .8rem; text-align: center; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .8rem; font-weight: 600; background: var(--line); }
.state-ok { background: #d1fae5; color: #065f46; }
.state-failing { background: #fef3c7; color: #92400e; }
.state-overdue { background: #fee2e2; color: #991b1b; }
.state-never { background: #e5e7eb; color: #374151; }
.read-only { background: #fef3c7; color: #92400e; }
.action-restart { background: #dbeafe; color: #1e40af; }
.action-fail { background: #fee2e2; color: #991b1b; }
.action-readd { background: #e0e7ff; color: #3730a3; }
.action-failover { background: #ede9fe; color: #5b21b6; }
.action-shutdown { background: #ccfbf1; color: #115e59; }
.badge.drill { background: #fef3c7; color: #92400e; font-weight: 500; }
tr.drill td { color: var(--muted); }
.late, .error { color: #b91c1c; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: .3rem 1.2rem; margin: 0; }
dl.facts dt { color: var(--muted); font-size: .8rem; }
dl.facts dd { margin: 0; }
p.summary { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; margin: .3rem 0 .6rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: .8rem; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 4px; padding: .4rem .5rem; }
figure.chart figcaption { font-weight: 600; font-size: .85rem; margin-bottom: .2rem; }
figure.chart svg { width: 100%; height: auto; display: block; }
.legend { font-weight: 400; margin-left: .5rem; }
.legend .key { margin-right: .6rem; white-space: nowrap; }
.legend i { display: inline-block; width: .7rem; height: .7rem; border-radius: 2px; margin-right: .25rem; vertical-align: -1px; }
svg .grid { stroke: #e4e7eb; stroke-width: 1; }
svg .frame { fill: none; stroke: #e4e7eb; }
svg .axis, svg .label, svg .value { font-size: 10px; fill: #52606d; }
svg .empty { font-size: 12px; fill: #9aa5b1; }
svg .line { fill: none; stroke-width: 2; }
svg .bridge { fill: none; stroke-width: 1.2; stroke-dasharray: 3 3; opacity: .7; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.why { max-width: 28rem; }
ul.thresholds { margin: 0 0 .5rem; padding-left: 1.1rem; font-size: .85rem; }
code { font-size: .85em; }
`);
