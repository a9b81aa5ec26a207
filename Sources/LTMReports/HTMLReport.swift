import Foundation
import Mustache

/// Renders `results.json` as one self-contained HTML page: inline CSS and SVG, no scripts, no fonts, nothing
/// from the network, with print styles. The templates are compiled into the binary (not a resource bundle) so a
/// copied `ltm-bench` binary still renders reports.
public enum HTMLReport {
  /// `published`: the papers' tables (`PublishedTable.load`); those computed under the run's protocol are shown as
  /// labelled rows of the results table.
  public static func render(_ doc: ResultsDocument, comparison: Comparison? = nil, published: [PublishedTable] = []) throws -> String {
    let library = try HTMLReportTemplate.library()
    guard let html = library.render(context(for: doc, comparison: comparison, published: published), withTemplate: HTMLReportTemplate.pageName) else {
      throw ReportError.invalid("the report template '\(HTMLReportTemplate.pageName)' is not registered")
    }
    return html
  }

  /// The view model: every string already formatted, so the templates stay logic-less.
  static func context(for doc: ResultsDocument, comparison: Comparison?, published: [PublishedTable] = []) -> [String: Any] {
    let view = ReportView(doc: doc, comparison: comparison, published: published.filter { $0.protocolName == doc.run.protocolName })
    let steps = view.stepsCharts()
    // A diffusion row's fresh bound is its own headline with a standard error, not LTM's second estimate.
    let hasLTMBounds = doc.results.contains { $0.boundParts != nil || ($0.freshBound != nil && $0.monteCarloStandardError == nil) }
    return [
      "title": "ltm-bench \(doc.command): \(doc.run.protocolName) protocol",
      "summary": view.summaryRows(),
      "protocolName": doc.run.protocolName,
      "protocolSummary": doc.run.protocolSummary ?? "",
      "hasPartial": doc.results.contains { !$0.complete },
      "hasUpper": doc.results.contains { $0.bound == "upper" },
      "hasLTMBounds": hasLTMBounds,
      "hasDiffusionBounds": doc.results.contains { $0.scorerSettings["time_samples"] != nil },
      "isShard": doc.run.shard != nil,
      "hasDelta": comparison != nil,
      "shardNote": doc.run.shard.map { "This file is shard \($0.index)/\($0.count) (0-based) of a run: every number covers only this shard's blocks. Combine the shards with ltm-bench merge." } ?? "",
      "matrix": view.matrix(),
      "charts": view.barCharts(),
      "stepsCharts": steps,
      "hasStepsCharts": !steps.isEmpty,
      "details": view.details(),
      "baseline": comparison.map(view.baselineSection) ?? false,
      "models": view.models(),
      "dataTasks": view.dataTasks(),
      "schemaVersion": String(doc.schemaVersion),
      "hasZeroShot": !doc.results.isEmpty || doc.fewshot == nil,
      "fewshot": doc.fewshot.map(FewShotReportView.context) ?? false,
    ]
  }
}

/// Builds the report's sections from one document (and its comparison against a baseline).
private struct ReportView {
  let doc: ResultsDocument
  let comparison: Comparison?
  /// The published tables of this run's protocol.
  let published: [PublishedTable]

  /// Tasks and (model, settings) rows in order of first appearance.
  var taskOrder: [String] { ordered(doc.results.map(\.task)) }
  var modelOrder: [String] { ordered(doc.results.map(\.model)) }

  /// "ltm-small · steps 16": the model, its steps, and its scorer settings only where one model has several.
  func variant(_ r: ResultEntry) -> String {
    let settingsVary = Set(doc.results.filter { $0.model == r.model }.map(\.scorerSettingsLabel)).count > 1
    let parts = (r.inferenceSteps.map { ["steps \($0)"] } ?? []) + (settingsVary ? [r.scorerSettingsLabel] : [])
    return parts.joined(separator: ", ")
  }

  func label(_ r: ResultEntry) -> String {
    let v = variant(r)
    return v.isEmpty ? r.model : "\(r.model) · \(v)"
  }

  func summaryRows() -> [[String: String]] {
    let run = doc.run
    // Rows every run has, between the command-specific head and tail.
    let common: [[String: String]] = [
      ["key": "seed", "value": String(run.seed)],
      ["key": "threads", "value": String(run.threads)],
      ["key": "wall time", "value": String(format: "%.1f s", run.wallSeconds)],
      ["key": "started", "value": run.startedAt],
      ["key": "host", "value": run.host],
      ["key": "versions", "value": (["\(doc.tool.name) \(doc.tool.version)"] + [run.os, run.blas].compactMap { $0 }).joined(separator: "; ")],
      ["key": "data dir", "value": run.dataDirectory],
    ]
    var rows: [[String: String]]
    if let fewshot = doc.fewshot {
      rows = [
        ["key": "command", "value": "fewshot"],
        ["key": "documents", "value": fewshot.limit.map { "first \($0) per task (--limit)" } ?? "every document"],
        ["key": "shot pool", "value": fewshot.shotPool],
      ] + common + [["key": "documents from the cache", "value": String(fewshot.results.reduce(0) { $0 + $1.resumedDocuments })]]
    } else {
      rows = [
        ["key": "protocol", "value": run.protocolName],
        ["key": "split", "value": run.split ?? "each task's default"],
        ["key": "blocks", "value": run.limitBlocks.map { "first \($0) per task (--limit-blocks)" } ?? "whole split"],
      ] + common + [["key": "blocks from the cache", "value": String(run.resumedBlocks)]]
    }
    if let shard = run.shard { rows.append(["key": "shard", "value": "\(shard.index)/\(shard.count) (0-based)"]) }
    if doc.fewshot == nil, let merged = run.mergedShards { rows.append(["key": "merged from", "value": "\(merged) shards"]) }
    return rows
  }

  /// The comparison row of result `index` for the headline metric, formatted as a delta cell.
  func delta(_ index: Int) -> [String: String]? {
    guard let comparison, let row = comparison.row(currentIndex: index, metric: ComparisonMetric.ppl.name) else { return nil }
    let change = row.relative
    let word: String
    let cls: String
    switch row.verdict {
    case .within: (word, cls) = ("within tolerance", "same")
    case .improved: (word, cls) = (comparison.fails(row) ? "better (fails: any change)" : "better", comparison.fails(row) ? "changed" : "better")
    case .regressed: (word, cls) = ("worse", "worse")
    }
    let arrow = change > 0 ? "▲" : change < 0 ? "▼" : "="
    return [
      "text": "\(arrow) \(ComparisonFormatter.percent(change)) \(word)", "class": cls,
      "baselineValue": row.baseline.isFinite ? "baseline \(row.isPerplexity && row.bound == "upper" ? "≤ " : "")\(formatPPL(row.baseline))" : "",
    ]
  }

  func matrix() -> [String: Any] {
    var variants: [(model: String, settings: String)] = []
    for r in doc.results where !variants.contains(where: { $0 == (r.model, variant(r)) }) {
      variants.append((r.model, variant(r)))
    }
    let tasks = taskOrder
    let rows: [[String: Any]] = variants.map { v in
      let cells: [[String: Any]] = tasks.map { task in
        guard let i = doc.results.firstIndex(where: { $0.model == v.model && variant($0) == v.settings && $0.task == task }) else {
          return ["present": false]
        }
        let r = doc.results[i]
        var cell: [String: Any] = [
          "present": true, "sign": r.bound == "upper" ? "≤" : "=", "boundTitle": r.bound == "upper" ? "upper bound" : "exact",
          "value": formatPPL(r.ppl), "partial": !r.complete, "partialReasons": r.partialReasons.joined(separator: "; "),
        ]
        if let d = delta(i) { cell["delta"] = d }
        return cell
      }
      return ["model": v.model, "settings": v.settings, "hasSettings": !v.settings.isEmpty, "cells": cells]
    }
    let publishedRows = publishedRows(tasks: tasks)
    return [
      "tasks": tasks.map { ["name": $0] }, "rows": rows, "published": publishedRows, "hasPublished": !publishedRows.isEmpty,
      "protocolName": doc.run.protocolName,
      "sources": published.filter { t in t.rows.contains { r in tasks.contains { r.values[$0] != nil } } }.map { ["id": $0.id, "source": $0.source] },
      "anyUnconfirmed": publishedRows.contains { ($0["cells"] as? [[String: Any]] ?? []).contains { $0["unconfirmed"] as? Bool == true } },
    ]
  }

  /// The published rows with a value for at least one of `tasks`, cells in the table's column order.
  func publishedRows(tasks: [String]) -> [[String: Any]] {
    published.flatMap { table in
      table.rows.filter { row in tasks.contains { row.values[$0] != nil } }.map { row -> [String: Any] in
        let cells: [[String: Any]] = tasks.map { task in
          guard let value = row.values[task] else { return ["present": false] }
          return [
            "present": true, "sign": row.bound == "upper" ? "≤" : "=", "boundTitle": row.bound == "upper" ? "upper bound" : "exact",
            "value": formatPPL(value), "unconfirmed": row.unconfirmed.contains(task),
          ]
        }
        return ["model": row.model, "tableID": table.id, "cells": cells]
      }
    }
  }

  func barCharts() -> [[String: Any]] {
    taskOrder.map { task in
      let indices = doc.results.indices.filter { doc.results[$0].task == task }
      let bars = indices.map { i -> BarChart.Bar in
        let r = doc.results[i]
        return BarChart.Bar(
          label: label(r), value: r.ppl, valueLabel: r.pplLabel + (r.complete ? "" : " (partial)"),
          colorIndex: modelOrder.firstIndex(of: r.model) ?? 0,
          baseline: comparison?.row(currentIndex: i, metric: ComparisonMetric.ppl.name)?.baseline)
      }
      let split = ordered(indices.map { doc.results[$0].split }).joined(separator: ", ")
      return ["task": task, "split": split, "chart": BarChart(bars: bars).context()]
    }
  }

  /// One chart per task where some model has results at two or more inference-step counts.
  func stepsCharts() -> [[String: Any]] {
    taskOrder.compactMap { task -> [String: Any]? in
      let rows = doc.results.filter { $0.task == task && $0.inferenceSteps != nil }
      var groups: [(key: String, rows: [ResultEntry])] = []
      for r in rows {
        let key = r.model + "|" + r.scorerSettingsLabel
        if let g = groups.firstIndex(where: { $0.key == key }) { groups[g].rows.append(r) } else { groups.append((key, [r])) }
      }
      let series = groups.compactMap { g -> StepsChart.Series? in
        var byStep: [Int: ResultEntry] = [:]
        for r in g.rows where byStep[r.inferenceSteps!] == nil { byStep[r.inferenceSteps!] = r }
        guard byStep.count >= 2 else { return nil }
        let sorted = byStep.sorted { $0.key < $1.key }
        let first = g.rows[0]
        let settingsVary = Set(doc.results.filter { $0.model == first.model }.map(\.scorerSettingsLabel)).count > 1
        return StepsChart.Series(
          label: settingsVary ? "\(first.model) (\(first.scorerSettingsLabel))" : first.model,
          colorIndex: modelOrder.firstIndex(of: first.model) ?? 0,
          points: sorted.map { ($0.key, $0.value.ppl) },
          fresh: sorted.allSatisfy { $0.value.freshBound != nil } ? sorted.map { ($0.key, $0.value.freshBound!.ppl) } : [])
      }
      guard !series.isEmpty else { return nil }
      return ["task": task, "chart": StepsChart(series: series).context(), "hasFresh": series.contains { !$0.fresh.isEmpty }]
    }
  }

  func details() -> [[String: Any]] {
    taskOrder.map { task in
      let rows: [[String: Any]] = doc.results.indices.filter { doc.results[$0].task == task }.map { i in
        let r = doc.results[i]
        let sign = r.boundSign
        var row: [String: Any] = [
          "model": r.model, "settings": r.settingsLabel, "hasSettings": !r.settingsLabel.isEmpty,
          "boundText": r.bound == "upper" ? "upper bound" : "exact",
          "headline": r.headline, "ppl": r.pplLabel,
          "tokenWeighted": sign + formatPPL(r.pplTokenWeighted), "blockMean": sign + formatPPL(r.pplBlockMean),
          "blocks": String(r.blocks), "tokens": r.scoredTokens.formatted(.number.grouping(.automatic)),
          "nllPerToken": String(format: "%.4f", r.nllSum / Double(max(r.scoredTokens, 1))),
          "wall": String(format: "%.1f s", r.wallSeconds),
          "partial": !r.complete, "partialReasons": r.partialReasons.joined(separator: "; "),
        ]
        if let p = r.boundParts {
          let tokens = Double(max(r.scoredTokens, 1))
          let total = p.nllSum + p.klSum
          row["parts"] = [
            "nll": String(format: "%.4f", p.nllSum / tokens), "kl": String(format: "%.4f", p.klSum / tokens),
            "klShare": total > 0 ? String(format: "%.1f%%", 100 * p.klSum / total) : "–",
          ]
        }
        if let f = r.freshBound {
          row["fresh"] = [
            "ppl": "≤ " + formatPPL(f.ppl), "tokenWeighted": "≤ " + formatPPL(f.pplTokenWeighted),
            "blockMean": "≤ " + formatPPL(f.pplBlockMean), "samples": String(f.samples),
            "stderr": String(format: "%.2g", f.stderrNLLPerToken),
            "relative": String(format: "%.2g%%", 100 * (exp(f.stderrNLLPerToken) - 1)),
          ]
        }
        if let d = delta(i) { row["delta"] = d }
        return row
      }
      let split = ordered(doc.results.filter { $0.task == task }.map(\.split)).joined(separator: ", ")
      return ["task": task, "split": split, "rows": rows, "hasParts": rows.contains { $0["parts"] != nil || $0["fresh"] != nil }]
    }
  }

  func baselineSection(_ c: Comparison) -> [String: Any] {
    let rows: [[String: Any]] = c.rows.map { r in
      let sign = r.isPerplexity && r.bound == "upper" ? "≤ " : ""
      let cls: String
      switch r.verdict {
      case .within: cls = "same"
      case .improved: cls = c.fails(r) ? "changed" : "better"
      case .regressed: cls = "worse"
      }
      return [
        "model": r.model, "task": r.task, "settings": r.inferenceSteps.map { "steps \($0)" } ?? "",
        "hasSettings": r.inferenceSteps != nil, "metric": r.metric,
        "direction": r.direction.rawValue, "baseline": sign + ComparisonFormatter.value(r.baseline),
        "current": sign + ComparisonFormatter.value(r.current), "delta": String(format: "%+.6g", r.delta),
        "relative": ComparisonFormatter.percent(r.relative),
        "tolerance": "\(String(format: "%g", r.tolerance)) (\(r.toleranceSource.rawValue))",
        "verdict": ComparisonFormatter.verdict(r, c), "class": cls,
      ]
    }
    return [
      "passed": c.passed, "summary": c.summary, "rows": rows, "problems": c.problems.map { ["message": $0.message] },
      "hasProblems": !c.problems.isEmpty,
      "unmatched": c.unmatched.joined(separator: ", "), "hasUnmatched": !c.unmatched.isEmpty,
      "failOn": c.failOn == .change ? "any change" : "a regression",
    ]
  }

  func models() -> [[String: Any]] {
    doc.models.map { m in
      [
        "id": m.id, "path": m.path, "family": m.family, "bound": m.bound,
        "parameters": m.parameters.formatted(.number.grouping(.automatic)),
        "files": m.checkpointFiles.map { ["path": $0.path, "sha256": $0.sha256, "bytes": $0.bytes.formatted(.number.grouping(.automatic))] },
      ]
    }
  }

  func dataTasks() -> [[String: Any]] {
    doc.tasks.map { t in
      [
        "name": t.name, "split": t.split, "detokenizer": t.detokenizer, "examples": String(t.examples),
        "tokens": String(t.tokens), "blocksAvailable": String(t.blocksAvailable),
        "blocksScored": String(t.blocksScored), "blocksSHA256": t.blocksSHA256,
        "filesNote": t.filesExpected.map { "\(t.files.count) of \($0) files" } ?? "",
        "hasFilesNote": t.filesExpected.map { t.files.count < $0 } ?? false,
        "files": t.files.map { ["path": $0.path, "sha256": $0.sha256, "bytes": $0.bytes.formatted(.number.grouping(.automatic))] },
      ]
    }
  }
}

/// The distinct values in order of first appearance.
func ordered(_ values: [String]) -> [String] {
  values.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
}
