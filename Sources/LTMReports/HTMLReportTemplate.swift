import Mustache

/// The report's Mustache templates: the page, its stylesheet and one partial per chart. Mustache escapes every
/// `{{value}}`, so paths and model names cannot inject markup; the view model (`HTMLReport`) formats every
/// number and computes every coordinate, so the templates hold no logic.
///
/// Context keys are unique across nesting levels on purpose: Mustache looks a missing key up in the enclosing
/// contexts, so an optional key (`baselineMark`, `delta`, `fresh`, `parts`) must not also exist further out.
enum HTMLReportTemplate {
  static let pageName = "page"

  static func library() throws -> MustacheLibrary {
    var library = MustacheLibrary()
    try library.register(page, named: pageName)
    try library.register(styles, named: "styles")
    try library.register(barChart, named: "bar-chart")
    try library.register(stepsChart, named: "steps-chart")
    try library.register(FewShotReportView.template, named: "fewshot")
    return library
  }

  static let styles = #"""
:root { --ink: #1d2433; --muted: #5b6474; --rule: #d8dde6; --faint: #f4f6f9; --better: #1f7a3a; --worse: #b3261e; --changed: #8a4b00; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 1.5rem auto 3rem; max-width: 1120px; color: var(--ink); padding: 0 1.25rem; }
h1 { font-size: 1.55rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2.2rem 0 .6rem; border-bottom: 2px solid var(--rule); padding-bottom: .3rem; }
h3 { font-size: 1.02rem; margin: 1.4rem 0 .4rem; }
p { margin: .4rem 0; }
.lede { color: var(--muted); margin-bottom: .8rem; }
nav.toc { font-size: 13px; color: var(--muted); margin: .6rem 0 1rem; }
nav.toc a { color: #2f5d9a; margin-right: .9rem; text-decoration: none; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { text-align: left; padding: .32rem .55rem; border-bottom: 1px solid #e6e9ef; vertical-align: top; }
thead th { background: var(--faint); font-weight: 600; border-bottom: 1px solid var(--rule); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num small { white-space: normal; display: inline-block; max-width: 13em; }
table.details { font-size: 13px; }
code, .hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.hash { word-break: break-all; color: var(--muted); }
small, .muted { color: var(--muted); }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: .35rem 1.4rem; margin: .8rem 0; padding: .8rem 1rem; background: var(--faint); border-radius: 6px; }
.summary div { min-width: 0; overflow-wrap: anywhere; }
.summary .k { display: block; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.summary .wide { grid-column: 1 / -1; }
.note { background: #fff8e6; border-left: 4px solid #e0a800; padding: .45rem .8rem; margin: .6rem 0; }
.note.info { background: #eef4fb; border-left-color: #2f5d9a; }
.partial { color: var(--worse); font-weight: 600; }
.partial-mark { color: var(--worse); font-weight: 700; }
.sign { display: inline-block; min-width: 1em; color: var(--muted); font-weight: 600; }
.sign.upper { color: var(--changed); }
tr.published td { background: #f4f5f8; color: #3d4656; }
tr.published td.num strong { font-weight: 500; }
.unconfirmed-mark { color: var(--changed); font-weight: 700; }
table.matrix td.num { font-size: 15px; }
table.matrix td.missing { color: var(--muted); text-align: center; }
.delta { display: block; font-size: 12px; font-weight: 600; white-space: normal; }
.delta.better, .verdict.better { color: var(--better); }
.delta.worse, .verdict.worse { color: var(--worse); }
.delta.changed, .verdict.changed { color: var(--changed); }
.delta.same, .verdict.same { color: var(--muted); font-weight: 400; }
.banner { padding: .55rem .9rem; border-radius: 6px; font-weight: 600; margin: .5rem 0; }
.banner.pass { background: #e7f4ea; color: var(--better); }
.banner.fail { background: #fbe9e7; color: var(--worse); }
.charts { display: grid; grid-template-columns: 1fr; gap: .4rem; }
figure { margin: .4rem 0 1rem; }
figcaption { font-weight: 600; margin-bottom: .2rem; }
figcaption small { font-weight: 400; }
svg { max-width: 100%; height: auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #1d2433; }
svg .tick-label, svg .axis-title { fill: #5b6474; font-size: 11px; }
svg .grid { stroke: #e6e9ef; stroke-width: 1; }
svg .axis { stroke: #9aa3b2; stroke-width: 1; }
.legend-line { display: inline-block; width: 22px; height: 0; border-top: 3px solid #1d2433; vertical-align: middle; margin: 0 .3rem 0 .8rem; }
.legend-line.dashed { border-top-style: dashed; }
footer { margin-top: 2.5rem; font-size: 12px; color: var(--muted); }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; }
  nav.toc { display: none; }
  h2 { margin-top: 1.2rem; break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  figure, tr, .note, .banner, .summary { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
  .hash { font-size: 8pt; }
}
"""#

  static let page = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<style>
{{> styles}}
</style>
</head>
<body>
<header>
<h1>{{title}}</h1>
<p class="lede"><code>{{protocolName}}</code>: {{protocolSummary}}</p>
</header>
<nav class="toc">{{#fewshot}}<a href="#fewshot">Few-shot</a>{{/fewshot}}{{#hasZeroShot}}<a href="#results">Results</a>{{/hasZeroShot}}{{#baseline}}<a href="#baseline">Baseline</a>{{/baseline}}{{#hasZeroShot}}<a href="#charts">Charts</a>{{/hasZeroShot}}{{#hasStepsCharts}}<a href="#steps">Inference steps</a>{{/hasStepsCharts}}{{#hasZeroShot}}<a href="#details">Details</a>{{/hasZeroShot}}<a href="#provenance">Provenance</a></nav>

<section id="summary" aria-label="run summary">
<div class="summary">
{{#summary}}<div><span class="k">{{key}}</span>{{value}}</div>
{{/summary}}
</div>
{{#isShard}}<p class="note">{{shardNote}}</p>{{/isShard}}
{{#hasPartial}}<p class="note"><span class="partial">*</span> Some numbers cover only part of the split (<code>--limit-blocks</code>, a shard, or fewer data files than the split has): they are not the split's perplexity and must not be reported as such. The details below say why.</p>{{/hasPartial}}
{{#hasUpper}}<p class="note info"><strong>=</strong> exact perplexity; <strong>≤</strong> upper bound on perplexity (exp of a negative ELBO per token), never an exact value.</p>{{/hasUpper}}
{{#hasDiffusionBounds}}<p class="note info">Diffusion (MDLM) rows: the headline <strong>≤</strong> is the continuous-time NELBO, −log p(x0 | x_t)/t summed over masked positions with t ~ U[0.001, 1] and each position masked with probability (1 − 0.001)·t, averaged over K (t, mask) draws per block (settings: time_samples). K = 1 is the papers' protocol and has no standard error; with K ≥ 2 the details column repeats the same bound with its Monte Carlo standard error.</p>{{/hasDiffusionBounds}}
{{#hasLTMBounds}}<p class="note info">LTM rows carry two bounds. The headline <strong>≤</strong> is the paper's bound: the posterior is fitted by AdamW with one noise draw ε, and the bound is evaluated at z = μ + σε with that same ε; this is the number the LTM paper reports. The details also give the bound re-estimated with fresh ε (an unbiased NELBO estimate) and its Monte Carlo standard error.</p>{{/hasLTMBounds}}
</section>

{{> fewshot}}
{{#hasZeroShot}}
<section id="results">
<h2>Results</h2>
<p class="muted">Headline perplexity of each model on each task under the <code>{{protocolName}}</code> protocol. <strong>=</strong> exact, <strong>≤</strong> upper bound{{#hasDelta}}; below each number, the change against the baseline (lower perplexity is better){{/hasDelta}}.</p>
{{#matrix}}
<table class="matrix">
<thead><tr><th>model</th>{{#tasks}}<th class="num">{{name}}</th>{{/tasks}}</tr></thead>
<tbody>
{{#rows}}<tr><td><strong>{{model}}</strong>{{#hasSettings}}<br><small>{{settings}}</small>{{/hasSettings}}</td>{{#cells}}{{#present}}<td class="num"><span class="sign {{boundTitle}}" title="{{boundTitle}}">{{sign}}</span> <strong>{{value}}</strong>{{#partial}}<span class="partial-mark" title="partial: {{partialReasons}}">*</span>{{/partial}}{{#delta}}<span class="delta {{class}}" title="{{baselineValue}}">{{text}}</span>{{/delta}}</td>{{/present}}{{^present}}<td class="missing">–</td>{{/present}}{{/cells}}</tr>
{{/rows}}
{{#published}}<tr class="published"><td><em>{{model}}</em><br><small>published · {{tableID}}</small></td>{{#cells}}{{#present}}<td class="num"><span class="sign {{boundTitle}}" title="{{boundTitle}}, published">{{sign}}</span> <strong>{{value}}</strong>{{#unconfirmed}}<span class="unconfirmed-mark" title="not confirmed against the paper">?</span>{{/unconfirmed}}</td>{{/present}}{{^present}}<td class="missing">–</td>{{/present}}{{/cells}}</tr>
{{/published}}
</tbody>
</table>
{{#hasPublished}}<p class="note info">Shaded rows are <strong>published</strong> numbers, not measured by this run (<code>tasks/published/zero-shot.yaml</code>), shown because they were computed under this run's <code>{{protocolName}}</code> protocol; the papers ran on GPUs in bf16, so expect small differences. {{#sources}}<br><code>{{id}}</code>: {{source}}{{/sources}}{{#anyUnconfirmed}}<br><span class="unconfirmed-mark">?</span> a value not confirmed against the paper itself.{{/anyUnconfirmed}}</p>{{/hasPublished}}
{{/matrix}}
</section>
{{/hasZeroShot}}

{{#baseline}}
<section id="baseline">
<h2>Baseline comparison</h2>
{{#passed}}<p class="banner pass">✓ No regression: {{summary}}</p>{{/passed}}{{^passed}}<p class="banner fail">✗ Fails: {{summary}}</p>{{/passed}}
<p class="muted">Fails on {{failOn}} beyond tolerance. Tolerances are relative; precedence: the baseline result's own, the baseline file's default, <code>--tolerance</code>, built-in 1e-4.</p>
{{#hasProblems}}<ul>{{#problems}}<li class="partial">{{message}}</li>{{/problems}}</ul>{{/hasProblems}}
<table>
<thead><tr><th>model</th><th>task</th><th>metric</th><th class="num">baseline</th><th class="num">current</th><th class="num">Δ</th><th class="num">Δ rel</th><th>tolerance</th><th>verdict</th></tr></thead>
<tbody>
{{#rows}}<tr><td>{{model}}{{#hasSettings}}<br><small>{{settings}}</small>{{/hasSettings}}</td><td>{{task}}</td><td>{{metric}}<br><small>{{direction}}</small></td><td class="num">{{baseline}}</td><td class="num">{{current}}</td><td class="num">{{delta}}</td><td class="num">{{relative}}</td><td><small>{{tolerance}}</small></td><td class="verdict {{class}}">{{verdict}}</td></tr>
{{/rows}}
</tbody>
</table>
{{#hasUnmatched}}<p class="muted">Not in the baseline (not compared): {{unmatched}}</p>{{/hasUnmatched}}
</section>
{{/baseline}}

{{#hasZeroShot}}
<section id="charts">
<h2>Perplexity by task</h2>
<p class="muted">One chart per task; log scale from 1 (a perfect model); shorter is better.{{#baseline}} A black tick marks the baseline's value.{{/baseline}}</p>
<div class="charts">
{{#charts}}<figure><figcaption>{{task}} <small>({{split}})</small></figcaption>
{{#chart}}{{> bar-chart}}{{/chart}}
</figure>
{{/charts}}
</div>
</section>
{{/hasZeroShot}}

{{#hasStepsCharts}}
<section id="steps">
<h2>LTM inference steps</h2>
<p class="muted">Perplexity bound against the number of posterior-inference steps, one line per model<span class="legend-line"></span>fitted-ε bound (the paper's)<span class="legend-line dashed"></span>fresh-ε re-estimate, where computed. Lower is better.</p>
{{#stepsCharts}}<figure><figcaption>{{task}}</figcaption>
{{#chart}}{{> steps-chart}}{{/chart}}
</figure>
{{/stepsCharts}}
</section>
{{/hasStepsCharts}}

{{#hasZeroShot}}
<section id="details">
<h2>Details per task</h2>
<p class="muted">Both aggregations of every result, with the blocks and scored tokens they cover.{{#hasLTMBounds}} NLL / token is the bound's total (reconstruction + KL) for LTM rows; the KL column is its KL part. The fresh-ε bound re-estimates the same posterior with K new noise draws, with the Monte Carlo standard error of its NLL per token.{{/hasLTMBounds}}</p>
{{#details}}
<h3>{{task}} <small>({{split}})</small></h3>
<table class="details">
<thead><tr><th>model</th><th class="num">headline</th><th class="num">token-weighted</th><th class="num">block mean</th><th class="num">blocks</th><th class="num">NLL / token</th>{{#hasParts}}<th class="num">of which KL</th><th class="num">fresh-ε bound</th>{{/hasParts}}<th class="num">time</th></tr></thead>
<tbody>
{{#rows}}<tr>
<td><strong>{{model}}</strong> <small>({{boundText}})</small>{{#hasSettings}}<br><small>{{settings}}</small>{{/hasSettings}}{{#partial}}<br><span class="partial">partial: {{partialReasons}}</span>{{/partial}}</td>
<td class="num"><strong>{{ppl}}</strong><br><small>{{headline}}</small>{{#delta}}<span class="delta {{class}}">{{text}}</span>{{/delta}}</td>
<td class="num">{{tokenWeighted}}</td><td class="num">{{blockMean}}</td><td class="num">{{blocks}}<br><small>{{tokens}} tokens</small></td><td class="num">{{nllPerToken}}{{#parts}}<br><small>reconstruction {{nll}}</small>{{/parts}}</td>
{{#hasParts}}<td class="num">{{#parts}}{{kl}}<br><small>{{klShare}} of the bound</small>{{/parts}}{{^parts}}–{{/parts}}</td><td class="num">{{#fresh}}<strong>{{ppl}}</strong><br><small>K = {{samples}}, s.e. {{stderr}} nats/token (±{{relative}} PPL)</small><br><small>token-weighted {{tokenWeighted}}, block mean {{blockMean}}</small>{{/fresh}}{{^fresh}}–{{/fresh}}</td>{{/hasParts}}
<td class="num">{{wall}}</td>
</tr>
{{/rows}}
</tbody>
</table>
{{/details}}
</section>
{{/hasZeroShot}}

<section id="provenance">
<h2>Provenance</h2>
<h3>Models</h3>
<table>
<thead><tr><th>model</th><th>family</th><th>bound</th><th class="num">parameters</th><th>checkpoint files (sha256)</th></tr></thead>
<tbody>
{{#models}}<tr><td><strong>{{id}}</strong><br><code>{{path}}</code></td><td>{{family}}</td><td>{{bound}}</td><td class="num">{{parameters}}</td><td>{{#files}}<code>{{path}}</code> <small>({{bytes}} bytes)</small><br><span class="hash">{{sha256}}</span><br>{{/files}}</td></tr>
{{/models}}
</tbody>
</table>
{{#hasZeroShot}}
<h3>Data</h3>
<table>
<thead><tr><th>task</th><th>detokenizer</th><th class="num">examples</th><th class="num">tokens</th><th class="num">blocks scored / available</th><th>data files (sha256)</th></tr></thead>
<tbody>
{{#dataTasks}}<tr><td><strong>{{name}}</strong><br><small>{{split}}</small></td><td>{{detokenizer}}</td><td class="num">{{examples}}</td><td class="num">{{tokens}}</td><td class="num">{{blocksScored}} / {{blocksAvailable}}<br><span class="hash">blocks {{blocksSHA256}}</span></td><td>{{#hasFilesNote}}<span class="partial">{{filesNote}}</span><br>{{/hasFilesNote}}{{#files}}<code>{{path}}</code> <small>({{bytes}} bytes)</small><br><span class="hash">{{sha256}}</span><br>{{/files}}</td></tr>
{{/dataTasks}}
</tbody>
</table>
{{/hasZeroShot}}
</section>

<footer>Every number on this page is in <code>results.json</code> (schema_version {{schemaVersion}}) beside it. This page is self-contained: no scripts, fonts or images are loaded from anywhere.</footer>
</body>
</html>
"""#

  /// One task's bars (`BarChart.context`).
  static let barChart = #"""
<svg width="{{width}}" height="{{height}}" viewBox="0 0 {{width}} {{height}}" role="img" aria-label="perplexity by model, log scale">
{{#ticks}}<line class="grid" x1="{{x}}" y1="{{y1}}" x2="{{x}}" y2="{{y2}}"></line><text class="tick-label" x="{{x}}" y="{{labelY}}" text-anchor="middle">{{label}}</text>
{{/ticks}}
<line class="axis" x1="{{axisX1}}" y1="{{axisY}}" x2="{{axisX2}}" y2="{{axisY}}"></line>
{{#bars}}<text x="{{labelX}}" y="{{textY}}" text-anchor="end">{{label}}</text><rect x="{{x}}" y="{{y}}" width="{{w}}" height="{{h}}" fill="{{color}}" rx="2"><title>{{label}}: {{value}}</title></rect><text x="{{valueX}}" y="{{textY}}">{{value}}</text>{{#baselineMark}}<line x1="{{x}}" y1="{{y1}}" x2="{{x}}" y2="{{y2}}" stroke="#111" stroke-width="2"><title>baseline</title></line>{{/baselineMark}}
{{/bars}}
</svg>
"""#

  /// One task's inference-steps curves (`StepsChart.context`).
  static let stepsChart = #"""
<svg width="{{width}}" height="{{height}}" viewBox="0 0 {{width}} {{height}}" role="img" aria-label="perplexity bound against inference steps">
{{#yTicks}}<line class="grid" x1="{{plotLeft}}" y1="{{y}}" x2="{{plotRight}}" y2="{{y}}"></line><text class="tick-label" x="{{yTickLabelX}}" y="{{y}}" dy="4" text-anchor="end">{{label}}</text>
{{/yTicks}}
{{#xTicks}}<line class="grid" x1="{{x}}" y1="{{plotTop}}" x2="{{x}}" y2="{{plotBottom}}"></line><text class="tick-label" x="{{x}}" y="{{xTickLabelY}}" text-anchor="middle">{{label}}</text>
{{/xTicks}}
<line class="axis" x1="{{plotLeft}}" y1="{{plotBottom}}" x2="{{plotRight}}" y2="{{plotBottom}}"></line>
<line class="axis" x1="{{plotLeft}}" y1="{{plotTop}}" x2="{{plotLeft}}" y2="{{plotBottom}}"></line>
<text class="axis-title" x="{{xTitleX}}" y="{{xTitleY}}" text-anchor="middle">{{xTitle}} ({{xScale}})</text>
<text class="axis-title" x="{{yTitleX}}" y="{{yTitleY}}" text-anchor="middle" transform="rotate(-90 {{yTitleX}} {{yTitleY}})">{{yTitle}} ({{yScale}})</text>
{{#lines}}<polyline points="{{points}}" fill="none" stroke="{{color}}" stroke-width="2.5"></polyline>{{#dots}}<circle cx="{{cx}}" cy="{{cy}}" r="3.5" fill="{{color}}"><title>{{label}}, {{title}}</title></circle>{{/dots}}
<line x1="{{legendX1}}" y1="{{legendY}}" x2="{{legendX2}}" y2="{{legendY}}" stroke="{{color}}" stroke-width="2.5"></line><text x="{{legendTextX}}" y="{{legendTextY}}">{{label}}</text>
{{#fresh}}<polyline points="{{points}}" fill="none" stroke="{{color}}" stroke-width="1.8" stroke-dasharray="6 4"></polyline>{{#dots}}<circle cx="{{cx}}" cy="{{cy}}" r="2.5" fill="#fff" stroke="{{color}}" stroke-width="1.5"><title>{{label}} fresh ε, {{title}}</title></circle>{{/dots}}
<line x1="{{legendX1}}" y1="{{legendY}}" x2="{{legendX2}}" y2="{{legendY}}" stroke="{{color}}" stroke-width="1.8" stroke-dasharray="6 4"></line><text x="{{legendTextX}}" y="{{legendTextY}}">{{label}}, fresh ε</text>
{{/fresh}}
{{/lines}}
</svg>
"""#
}
