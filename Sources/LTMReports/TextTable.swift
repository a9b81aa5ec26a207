/// The short results table printed on stdout: every number with its protocol and bound type.
public enum TextTable {
  public static func render(_ doc: ResultsDocument) -> String {
    // A steps column only when some result has one: GPT-2 tables stay as they were.
    let hasSettings = doc.results.contains { !$0.settingsLabel.isEmpty }
    var header = ["model", "task", "split", "protocol", "bound", "ppl", "headline", "tok-weighted", "block-mean", "blocks", "tokens"]
    if hasSettings { header.insert("settings", at: 1) }
    // Diffusion rows scored with K ≥ 2 time samples: the Monte Carlo standard error of their bound.
    let hasMonteCarlo = doc.results.contains { $0.monteCarloStandardError != nil }
    if hasMonteCarlo { header.append("mc-s.e. nats/tok") }
    var rows = [header]
    for r in doc.results {
      var row = [
        r.model, r.task, r.split, r.protocolName, r.bound, r.pplLabel + (r.complete ? "" : "*"), r.headline,
        r.boundSign + formatPPL(r.pplTokenWeighted), r.boundSign + formatPPL(r.pplBlockMean), String(r.blocks),
        String(r.scoredTokens),
      ]
      if hasSettings { row.insert(r.settingsLabel, at: 1) }
      if hasMonteCarlo { row.append(r.monteCarloStandardError.map { String(format: "±%.4f", $0) } ?? "–") }
      rows.append(row)
    }
    let offset = hasSettings ? 1 : 0
    var lines = aligned(rows, rightAligned: Set([5, 7, 8, 9, 10].map { $0 + offset } + (hasMonteCarlo ? [11 + offset] : [])))
    for r in doc.results where !r.complete {
      lines.append("* \(r.model) on \(r.task): partial (\(r.partialReasons.joined(separator: "; "))): not the split's perplexity")
    }
    return lines.joined(separator: "\n")
  }

  /// Pads every column to its widest cell (numbers right-aligned) and rules off the first row as the header.
  public static func aligned(_ rows: [[String]], rightAligned: Set<Int>) -> [String] {
    guard let header = rows.first else { return [] }
    var widths = [Int](repeating: 0, count: header.count)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    var lines = rows.map { row in
      row.enumerated().map { i, cell in
        let pad = String(repeating: " ", count: widths[i] - cell.count)
        return rightAligned.contains(i) ? pad + cell : cell + pad
      }.joined(separator: "  ")
    }
    lines.insert(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "), at: 1)
    return lines
  }
}
