import Foundation
import Mustache

/// Renders `results.json` as one self-contained HTML page: inline CSS and an inline SVG chart, no scripts,
/// no network. The template is compiled into the binary (not a resource bundle) so a copied `ltm-bench`
/// binary still renders reports.
public enum HTMLReport {
  public static func render(_ doc: ResultsDocument) throws -> String {
    let template = try MustacheTemplate(string: HTMLReportTemplate.page)
    return template.render(context(for: doc))
  }

  /// The view model: every string already formatted, so the template stays logic-less.
  static func context(for doc: ResultsDocument) -> [String: Any] {
    let run = doc.run
    let runRows: [[String: String]] = [
      ["key": "tool", "value": "\(doc.tool.name) \(doc.tool.version)"],
      ["key": "command", "value": doc.command],
      ["key": "protocol", "value": run.protocolName],
      ["key": "split", "value": run.split ?? "each task's default"],
      ["key": "limit blocks", "value": run.limitBlocks.map(String.init) ?? "none (whole split)"],
      ["key": "threads", "value": String(run.threads)],
      ["key": "seed", "value": String(run.seed)],
      ["key": "started", "value": run.startedAt],
      ["key": "wall time", "value": String(format: "%.1f s", run.wallSeconds)],
      ["key": "blocks resumed from journal", "value": String(run.resumedBlocks)],
      ["key": "data dir", "value": run.dataDirectory],
      ["key": "host", "value": run.host],
    ]
    let results: [[String: Any]] = doc.results.map { r in
      [
        "model": r.model, "task": r.task, "split": r.split, "protocol": r.protocolName, "bound": r.bound,
        "ppl": r.pplLabel, "headline": r.headline,
        "tokenWeighted": (r.bound == "upper" ? "≤ " : "") + formatPPL(r.pplTokenWeighted),
        "blockMean": (r.bound == "upper" ? "≤ " : "") + formatPPL(r.pplBlockMean),
        "blocks": String(r.blocks), "tokens": String(r.scoredTokens), "examples": String(r.examples),
        "partial": !r.complete, "partialReasons": r.partialReasons.joined(separator: "; "),
      ]
    }
    let models: [[String: Any]] = doc.models.map { m in
      [
        "id": m.id, "path": m.path, "family": m.family, "bound": m.bound,
        "parameters": m.parameters.formatted(.number.grouping(.automatic)),
        "files": m.checkpointFiles.map { ["path": $0.path, "sha256": $0.sha256, "bytes": String($0.bytes)] },
      ]
    }
    let tasks: [[String: Any]] = doc.tasks.map { t in
      [
        "name": t.name, "split": t.split, "detokenizer": t.detokenizer, "examples": String(t.examples),
        "tokens": String(t.tokens), "blocksAvailable": String(t.blocksAvailable),
        "blocksScored": String(t.blocksScored), "blocksSHA256": t.blocksSHA256,
        "files": t.files.map { ["path": $0.path, "sha256": $0.sha256, "bytes": String($0.bytes)] },
      ]
    }
    return [
      "title": "ltm-bench \(doc.command) — \(run.protocolName)",
      "run": runRows,
      "results": results,
      "hasPartial": doc.results.contains { !$0.complete },
      "hasUpper": doc.results.contains { $0.bound == "upper" },
      "models": models,
      "tasks": tasks,
      "chart": BarChart(results: doc.results).svgContext(),
    ]
  }
}

/// Grouped horizontal bars: one group per task, one bar per model, each group scaled to its own maximum on a
/// log axis (perplexities of different tasks differ by orders of magnitude; within a task the order matters).
struct BarChart {
  let results: [ResultEntry]
  let width = 760.0
  let labelWidth = 200.0
  let barHeight = 18.0
  let gap = 4.0
  let groupGap = 22.0

  func svgContext() -> [String: Any] {
    let byTask = Dictionary(grouping: results, by: \.task)
    let taskOrder = results.map(\.task).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    var y = 10.0
    var bars: [[String: String]] = []
    var headings: [[String: String]] = []
    let palette = ["#3b6ea8", "#d9822b", "#3f8f4f", "#a23b72", "#6b5b95", "#8c6d31"]
    let modelOrder = results.map(\.model).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    for task in taskOrder {
      let rows = byTask[task] ?? []
      headings.append(["x": "0", "y": fmt(y + 12), "text": task])
      y += 18
      let maxLog = rows.map { log10(max($0.ppl, 1.0001)) }.max() ?? 1
      for r in rows {
        let frac = log10(max(r.ppl, 1.0001)) / max(maxLog, 1e-9)
        let w = max(2.0, frac * (width - labelWidth - 110))
        let color = palette[(modelOrder.firstIndex(of: r.model) ?? 0) % palette.count]
        bars.append([
          "labelX": fmt(labelWidth - 6), "textY": fmt(y + barHeight - 5), "label": r.model,
          "x": fmt(labelWidth), "y": fmt(y), "w": fmt(w), "h": fmt(barHeight), "color": color,
          "valueX": fmt(labelWidth + w + 6), "value": r.pplLabel + (r.complete ? "" : " (partial)"),
        ])
        y += barHeight + gap
      }
      y += groupGap
    }
    return ["width": fmt(width), "height": fmt(y), "bars": bars, "headings": headings]
  }

  private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
}
