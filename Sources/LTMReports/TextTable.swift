/// The short results table printed on stdout: every number with its protocol and bound type.
public enum TextTable {
  public static func render(_ doc: ResultsDocument) -> String {
    let header = ["model", "task", "split", "protocol", "bound", "ppl", "headline", "tok-weighted", "block-mean", "blocks", "tokens"]
    var rows = [header]
    for r in doc.results {
      let sign = r.bound == "upper" ? "≤ " : ""
      rows.append([
        r.model, r.task, r.split, r.protocolName, r.bound, r.pplLabel + (r.complete ? "" : "*"), r.headline,
        sign + formatPPL(r.pplTokenWeighted), sign + formatPPL(r.pplBlockMean), String(r.blocks), String(r.scoredTokens),
      ])
    }
    var widths = [Int](repeating: 0, count: header.count)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    var lines = rows.map { row in
      row.enumerated().map { i, cell in
        let pad = String(repeating: " ", count: widths[i] - cell.count)
        return i >= 5 && i != 6 ? pad + cell : cell + pad
      }.joined(separator: "  ")
    }
    lines.insert(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "), at: 1)
    for r in doc.results where !r.complete {
      lines.append("* \(r.model) on \(r.task): partial (\(r.partialReasons.joined(separator: "; "))): not the split's perplexity")
    }
    return lines.joined(separator: "\n")
  }
}
