import Foundation

/// The few-shot section of the report: a table of models × (task, shots) with each result's headline metric,
/// the headline against the number of shots (one chart per task with two or more shot counts), and every metric
/// of every result with its standard error, task version and prompt hash.
enum FewShotReportView {
  static func context(_ section: FewShotSection) -> [String: Any] {
    let results = section.results
    let models = ordered(results.map(\.model))
    let tasks = ordered(results.map(\.task))
    // Rows: model × task (its headline metric); columns: the shot counts.
    let shotCounts = Set(results.map(\.shots)).sorted()
    let headlineName = { (task: String) -> String in results.first { $0.task == task }?.headline?.name ?? "–" }
    var rows: [[String: Any]] = []
    for m in models {
      for t in tasks where results.contains(where: { $0.model == m && $0.task == t }) {
        let cells: [[String: Any]] = shotCounts.map { k in
          guard let r = results.first(where: { $0.model == m && $0.task == t && $0.shots == k }) else {
            return ["fsValue": "–", "fsPartial": false]
          }
          guard let h = r.headline else {
            // Every metric the task asks for is absent for this model (e.g. greedy accuracy of a diffusion model).
            return ["fsValue": "absent", "fsPartial": true, "fsReasons": r.absentMetrics.map { "\($0.name): \($0.reason)" }.joined(separator: "; ")]
          }
          return ["fsValue": h.label, "fsPartial": !r.complete, "fsReasons": "partial: " + r.partialReasons.joined(separator: "; ")]
        }
        rows.append(["fsModel": m, "fsRowTask": t, "fsRowMetric": headlineName(t), "fsCells": cells])
      }
    }
    let plots: [[String: Any]] = tasks.compactMap { t in
      let series = models.enumerated().compactMap { i, m -> StepsChart.Series? in
        let points = results.filter { $0.model == m && $0.task == t }.compactMap { r in r.headline.map { (steps: r.shots, value: $0.value) } }
          .sorted { $0.steps < $1.steps }
        return points.count >= 2 ? StepsChart.Series(label: m, colorIndex: i, points: points, fresh: []) : nil
      }
      guard !series.isEmpty else { return nil }
      let metric = headlineName(t)
      let isRate = !metric.hasPrefix("perplexity")
      var chart = StepsChart(series: series)
      chart.xTitle = "demonstrations (shots)"
      chart.yTitle = metric
      chart.xUnit = "shots"
      chart.formatValue = { isRate ? String(format: "%.4f", $0) : formatPPL($0) }
      chart.logAbove = isRate ? .infinity : 3
      if isRate { chart.yRange = 0...1 }
      return ["fsPlotTask": t, "fsPlotMetric": metric, "chart": chart.context()]
    }
    let details: [[String: Any]] = results.map { r -> [String: Any] in
      let settings: [String] = r.settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + (r.estimator.map { ["estimator=\($0)"] } ?? [])
      let metrics: [[String: String]] = r.metrics.map { m in
        ["fsName": m.name, "fsLabel": m.label, "fsBound": m.bound == "upper" ? "upper bound" : m.bound == "estimate" ? "estimate (not a bound)" : "exact", "fsMethod": m.stderrMethod]
      }
      let absent: [[String: String]] = r.absentMetrics.map { ["fsName": $0.name, "fsReason": $0.reason] }
      return [
        "fsModel": r.model, "fsTask": r.task, "fsVersion": String(r.taskVersion), "fsShots": String(r.shots),
        "fsDocuments": String(r.documents), "fsPrompt": String(r.promptSHA256.prefix(16)),
        "fsRequests": String(r.requestsSHA256.prefix(16)),
        "fsMetrics": metrics, "fsAbsent": absent, "fsSettings": settings.joined(separator: ", "),
        "fsPartialText": r.complete ? "" : r.partialReasons.joined(separator: "; "),
        "fsResumed": String(r.resumedDocuments),
      ]
    }
    let taskRows: [[String: Any]] = section.tasks.map { t in
      [
        "fsTask": t.name, "fsVersion": String(t.version), "fsPromptHash": t.promptSHA256, "fsType": t.outputType,
        "fsEval": t.evalSplit, "fsShotSource": t.shotSource, "fsAvailable": String(t.documentsAvailable),
        "fsFiles": t.files.map { ["fsPath": $0.path, "fsSHA": $0.sha256] },
      ]
    }
    return [
      "fsColumns": shotCounts.map { ["fsColShots": String($0)] },
      "fsRows": rows, "fsPlots": plots, "fsHasPlots": !plots.isEmpty, "fsDetails": details, "fsTasks": taskRows,
      "fsShotPool": section.shotPool, "fsSamples": section.samplesFile,
      "fsLimit": section.limit.map { "the first \($0) documents of each task (--limit)" } ?? "every document",
      "fsHasBound": results.contains { $0.metrics.contains { $0.bound == "upper" } },
      "fsHasEstimate": results.contains { $0.metrics.contains { $0.bound == "estimate" } },
    ]
  }

  static let template = #"""
{{#fewshot}}
<section id="fewshot">
<h2>Few-shot results</h2>
<p class="muted">Headline metric of each model on each task and shot count (the first metric the task lists), ± its standard error. Documents: {{fsLimit}}; demonstrations from the shot pool <code>{{fsShotPool}}</code>, drawn per document from (seed, task, document id). Every prompt and answer is in <code>{{fsSamples}}</code>.</p>
{{#fsHasBound}}<p class="note info"><strong>≤</strong> marks a perplexity computed from log-likelihood bounds (a diffusion model's NELBO): an upper bound, never an exact value.</p>{{/fsHasBound}}
{{#fsHasEstimate}}<p class="note info"><strong>≈</strong> marks a perplexity from log-likelihood estimates that bound nothing (an LTM scored at a z fitted on the context; an MDLM's NELBO(context + continuation) − NELBO(context)): comparable across runs of the same estimator, not with exact values.</p>{{/fsHasEstimate}}
<table class="matrix">
<thead><tr><th>model</th><th>task</th><th>metric</th>{{#fsColumns}}<th class="num">{{fsColShots}}-shot</th>{{/fsColumns}}</tr></thead>
<tbody>
{{#fsRows}}<tr><td><strong>{{fsModel}}</strong></td><td>{{fsRowTask}}</td><td>{{fsRowMetric}}</td>{{#fsCells}}<td class="num">{{fsValue}}{{#fsPartial}}<span class="partial-mark" title="{{fsReasons}}">*</span>{{/fsPartial}}</td>{{/fsCells}}</tr>
{{/fsRows}}
</tbody>
</table>
{{#fsHasPlots}}
<h3>Against the number of shots</h3>
{{#fsPlots}}<figure><figcaption>{{fsPlotTask}} <small>({{fsPlotMetric}})</small></figcaption>
{{#chart}}{{> steps-chart}}{{/chart}}
</figure>
{{/fsPlots}}
{{/fsHasPlots}}
<h3>Every metric</h3>
<table class="details">
<thead><tr><th>model</th><th>task</th><th class="num">shots</th><th class="num">documents</th><th>metrics (± s.e.)</th><th>settings</th></tr></thead>
<tbody>
{{#fsDetails}}<tr><td><strong>{{fsModel}}</strong></td><td>{{fsTask}} <small>v{{fsVersion}}</small><br><span class="hash">prompt {{fsPrompt}}… requests {{fsRequests}}…</span></td><td class="num">{{fsShots}}</td><td class="num">{{fsDocuments}}<br><small>{{fsResumed}} from the cache</small>{{#fsPartialText}}<br><span class="partial">partial: {{fsPartialText}}</span>{{/fsPartialText}}</td>
<td>{{#fsMetrics}}{{fsName}}: <strong>{{fsLabel}}</strong> <small>({{fsBound}}; s.e. {{fsMethod}})</small><br>{{/fsMetrics}}{{#fsAbsent}}{{fsName}}: <em>absent</em> <small>({{fsReason}})</small><br>{{/fsAbsent}}</td><td><small>{{fsSettings}}</small></td></tr>
{{/fsDetails}}
</tbody>
</table>
<h3>Few-shot tasks</h3>
<table>
<thead><tr><th>task</th><th>type</th><th>evaluated split</th><th>shots from</th><th class="num">documents</th><th>data files (sha256)</th></tr></thead>
<tbody>
{{#fsTasks}}<tr><td><strong>{{fsTask}}</strong> <small>v{{fsVersion}}</small><br><span class="hash">prompt {{fsPromptHash}}</span></td><td>{{fsType}}</td><td>{{fsEval}}</td><td>{{fsShotSource}}</td><td class="num">{{fsAvailable}}</td><td>{{#fsFiles}}<code>{{fsPath}}</code><br><span class="hash">{{fsSHA}}</span><br>{{/fsFiles}}</td></tr>
{{/fsTasks}}
</tbody>
</table>
</section>
{{/fewshot}}
"""#
}
