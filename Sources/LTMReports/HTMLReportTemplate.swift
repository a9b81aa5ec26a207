/// The report page. Mustache escapes every `{{value}}`, so paths and model names cannot inject markup.
enum HTMLReportTemplate {
  static let page = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; color: #1d2433; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d8dde6; padding-bottom: .3rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #e6e9ef; vertical-align: top; }
th { background: #f4f6f9; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .hash { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; word-break: break-all; }
.note { background: #fff8e6; border-left: 4px solid #e0a800; padding: .5rem .8rem; margin: .8rem 0; }
.bound-upper { color: #8a4b00; font-weight: 600; } .partial { color: #a11; font-weight: 600; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2433; }
</style>
</head>
<body>
<h1>{{title}}</h1>
{{#hasPartial}}<p class="note partial">Some numbers cover only part of the split (<code>--limit-blocks</code>, or fewer data files than the split has): they are not the split's perplexity and must not be reported as such.</p>{{/hasPartial}}
{{#hasUpper}}<p class="note">“≤” marks an upper bound on perplexity (exp of a NELBO per token), not an exact perplexity.</p>{{/hasUpper}}

<h2>Results</h2>
<table>
<thead><tr><th>model</th><th>task</th><th>split</th><th>protocol</th><th>bound</th><th>PPL (headline)</th><th>token-weighted</th><th>block mean</th><th>blocks</th><th>scored tokens</th><th>examples</th></tr></thead>
<tbody>
{{#results}}<tr><td>{{model}}</td><td>{{task}}</td><td>{{split}}</td><td>{{protocol}}</td><td class="bound-{{bound}}">{{bound}}</td><td class="num"><strong>{{ppl}}</strong><br><small>{{headline}}</small>{{#partial}}<br><span class="partial" title="{{partialReasons}}">partial: {{partialReasons}}</span>{{/partial}}</td><td class="num">{{tokenWeighted}}</td><td class="num">{{blockMean}}</td><td class="num">{{blocks}}</td><td class="num">{{tokens}}</td><td class="num">{{examples}}</td></tr>
{{/results}}
</tbody>
</table>

<h2>Chart</h2>
<p>Headline perplexity per task (log scale within each task; shorter is better).</p>
{{#chart}}
<svg xmlns="http://www.w3.org/2000/svg" width="{{width}}" height="{{height}}" viewBox="0 0 {{width}} {{height}}" role="img" aria-label="perplexity by task and model">
{{#headings}}<text x="{{x}}" y="{{y}}" font-weight="600">{{text}}</text>
{{/headings}}
{{#bars}}<text x="{{labelX}}" y="{{textY}}" text-anchor="end">{{label}}</text><rect x="{{x}}" y="{{y}}" width="{{w}}" height="{{h}}" fill="{{color}}" rx="2"></rect><text x="{{valueX}}" y="{{textY}}">{{value}}</text>
{{/bars}}
</svg>
{{/chart}}

<h2>Models</h2>
<table>
<thead><tr><th>id</th><th>family</th><th>bound</th><th>parameters</th><th>checkpoint files (sha256)</th></tr></thead>
<tbody>
{{#models}}<tr><td>{{id}}<br><code>{{path}}</code></td><td>{{family}}</td><td>{{bound}}</td><td class="num">{{parameters}}</td><td>{{#files}}<code>{{path}}</code> ({{bytes}} bytes)<br><span class="hash">{{sha256}}</span><br>{{/files}}</td></tr>
{{/models}}
</tbody>
</table>

<h2>Tasks</h2>
<table>
<thead><tr><th>task</th><th>split</th><th>detokenizer</th><th>examples</th><th>tokens</th><th>blocks (scored / available)</th><th>data files (sha256)</th></tr></thead>
<tbody>
{{#tasks}}<tr><td>{{name}}</td><td>{{split}}</td><td>{{detokenizer}}</td><td class="num">{{examples}}</td><td class="num">{{tokens}}</td><td class="num">{{blocksScored}} / {{blocksAvailable}}<br><span class="hash">blocks sha256 {{blocksSHA256}}</span></td><td>{{#files}}<code>{{path}}</code><br><span class="hash">{{sha256}}</span><br>{{/files}}</td></tr>
{{/tasks}}
</tbody>
</table>

<h2>Run</h2>
<table>
<tbody>
{{#run}}<tr><th>{{key}}</th><td>{{value}}</td></tr>
{{/run}}
</tbody>
</table>
<p><small>Schema: <code>results.json</code> schema_version 1 beside this page holds every number shown here.</small></p>
</body>
</html>
"""#
}
