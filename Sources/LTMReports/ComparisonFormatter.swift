import Foundation

/// Prints a `Comparison` for a terminal (`text`) or a pull-request comment (`markdown`). Both show the same
/// columns: what was compared (with protocol and bound sign), both values, the absolute and relative delta, the
/// tolerance and where it came from, and the verdict in words (not colour alone).
public enum ComparisonFormatter {
  public enum Format: String, Sendable, CaseIterable {
    case text
    case markdown
  }

  public static func render(_ c: Comparison, format: Format, current: String, baseline: String) -> String {
    switch format {
    case .text: return text(c, current: current, baseline: baseline)
    case .markdown: return markdown(c, current: current, baseline: baseline)
    }
  }

  /// The table's columns; `steps` only when some compared result has inference steps.
  static func header(_ c: Comparison) -> [String] {
    ["model", "task", "split", "protocol"] + (hasSteps(c) ? ["steps"] : [])
      + ["metric", "baseline", "current", "Δ", "Δ rel", "tolerance", "verdict"]
  }

  static func hasSteps(_ c: Comparison) -> Bool { c.rows.contains { $0.inferenceSteps != nil } }

  /// Indices of the numeric (right-aligned) columns: steps, baseline, current, Δ, Δ rel.
  static func numeric(_ c: Comparison) -> Set<Int> {
    let baselineColumn = hasSteps(c) ? 6 : 5
    return Set(baselineColumn..<(baselineColumn + 4)).union(hasSteps(c) ? [4] : [])
  }

  static func cells(_ r: Comparison.Row, _ c: Comparison) -> [String] {
    let sign = r.isPerplexity && r.bound == "upper" ? "≤ " : ""
    return [r.model, r.task, r.split, r.protocolName] + (hasSteps(c) ? [r.inferenceSteps.map(String.init) ?? ""] : []) + [
      "\(r.metric) (\(r.direction == .lowerIsBetter ? "↓" : "↑"))",
      sign + value(r.baseline), sign + value(r.current), String(format: "%+.6g", r.delta), percent(r.relative),
      "\(String(format: "%g", r.tolerance)) (\(r.toleranceSource.rawValue))", verdict(r, c),
    ]
  }

  static func text(_ c: Comparison, current: String, baseline: String) -> String {
    var lines = ["compare \(current) against \(baseline) (fails on \(c.failOn == .change ? "any change" : "a regression") beyond tolerance; ↓ lower is better, ↑ higher is better)"]
    if !c.rows.isEmpty {
      lines += TextTable.aligned([header(c)] + c.rows.map { cells($0, c) }, rightAligned: numeric(c))
    }
    if !c.problems.isEmpty {
      lines.append("problems:")
      lines += c.problems.map { "- \($0.message)" }
    }
    if !c.unmatched.isEmpty {
      lines.append("not in the baseline (not compared): \(c.unmatched.joined(separator: ", "))")
    }
    lines.append("\(c.passed ? "PASS" : "FAIL"): \(c.summary)")
    return lines.joined(separator: "\n")
  }

  static func markdown(_ c: Comparison, current: String, baseline: String) -> String {
    var lines = [
      "### ltm-bench compare: \(c.passed ? "✅ pass" : "❌ fail")",
      "",
      "`\(current)` against `\(baseline)`: \(c.summary). Fails on \(c.failOn == .change ? "any change" : "a regression") beyond tolerance; ↓ lower is better, ↑ higher is better.",
    ]
    if !c.rows.isEmpty {
      lines.append("")
      let numeric = numeric(c)
      lines.append("| " + header(c).joined(separator: " | ") + " |")
      lines.append("|" + header(c).indices.map { numeric.contains($0) ? "---:|" : "---|" }.joined())
      lines += c.rows.map { "| " + cells($0, c).map(escape).joined(separator: " | ") + " |" }
    }
    if !c.problems.isEmpty {
      lines.append("")
      lines.append("**Problems**")
      lines.append("")
      lines += c.problems.map { "- \(escape($0.message))" }
    }
    if !c.unmatched.isEmpty {
      lines.append("")
      lines.append("Not in the baseline (not compared): \(c.unmatched.map(escape).joined(separator: ", ")).")
    }
    return lines.joined(separator: "\n")
  }

  static func verdict(_ r: Comparison.Row, _ c: Comparison) -> String {
    switch r.verdict {
    case .within: return "ok"
    case .regressed: return "REGRESSED"
    case .improved: return c.fails(r) ? "CHANGED (better)" : "improved"
    }
  }

  /// Six significant digits: enough to see a 1e-5 relative drift in a perplexity.
  static func value(_ v: Double) -> String { String(format: "%.6g", v) }

  static func percent(_ relative: Double) -> String {
    relative == 0 ? "0%" : String(format: "%+.3g%%", relative * 100)
  }

  /// A `|` would end a Markdown table cell.
  static func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
}
