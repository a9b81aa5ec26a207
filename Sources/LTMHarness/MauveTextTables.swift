import Foundation
import LTMMauve

// The plain-text tables `ltm-bench mauve` prints, beside the JSON and HTML reports of the same documents.

extension MauveGenerationDocument {
  /// The command line's summary: one row per model (MAUVE, generative perplexity, diversity).
  public func textTable() -> String {
    let d = self
    let pad = MauveTextTable.pad
    let p = d.protocolSettings
    var lines = [
      "\(p.promptsUsed) prompts from \(p.prompts), \(p.prefixTokens) + \(p.newTokens) tokens, \(p.samplesPerPrompt) samples each",
      pad("model", 28) + pad("MAUVE", 18) + pad("gen PPL tok/mean", 20) + pad("entropy", 9) + pad("d-1", 7) + pad("d-2", 7)
        + pad("d-3", 7) + "rep",
    ]
    for r in d.results {
      let s = r.seedSummary
      let mauve = s.seeds.count > 1 ? String(format: "%.4f ± %.4f", s.mauve.mean, s.mauve.std) : String(format: "%.4f", r.scores.mauve)
      let ppl = r.generativePerplexity.map { String(format: "%.2f / %.2f", $0.tokenWeighted, $0.meanOfSamples) } ?? "-"
      lines.append(pad(r.label, 28) + pad(mauve, 18) + pad(ppl, 20) + pad(String(format: "%.3f", r.text.unigramEntropy), 9)
        + pad(String(format: "%.3f", r.text.distinct1), 7) + pad(String(format: "%.3f", r.text.distinct2), 7)
        + pad(String(format: "%.3f", r.text.distinct3), 7) + String(format: "%.3f", r.text.repetitionRate))
    }
    return lines.joined(separator: "\n")
  }
}

extension MauveDocument {
  /// The command line's summary: the inputs, the settings and the four scores (with their spread over seeds).
  public func textTable() -> String {
    let d = self
    let pad = MauveTextTable.pad, formatNumber = MauveTextTable.formatNumber
    func side(_ name: String, _ i: MauveDocument.Input) -> String {
      "\(name)  \(i.path)\(i.tensor.map { ":" + $0 } ?? "")  \(i.rows) × \(i.dims) \(i.dtype)"
    }
    let s = d.settings
    var lines = [
      side("p", d.inputs.p), side("q", d.inputs.q),
      "k \(s.numBuckets) (\(s.numBucketsRequested)), PCA \(d.pca.inputDims) → \(d.pca.keptDims) dims, "
        + "\(s.kmeansRestarts) restarts × ≤\(s.kmeansIterations) iterations, c \(formatNumber(s.scalingFactor))",
      "",
    ]
    let multi = s.seeds.count > 1
    lines.append(pad("score", 24) + pad("seed \(s.seed)", 12) + (multi ? "mean ± std over \(s.seeds.count) seeds" : ""))
    let rows: [(String, Double, MauveSeedSummary.Stat)] = [
      ("mauve", d.scores.mauve, d.seedSummary.mauve),
      ("mauve_star", d.scores.mauveStar, d.seedSummary.mauveStar),
      ("frontier_integral", d.scores.frontierIntegral, d.seedSummary.frontierIntegral),
      ("frontier_integral_star", d.scores.frontierIntegralStar, d.seedSummary.frontierIntegralStar),
    ]
    for (name, value, stat) in rows {
      lines.append(pad(name, 24) + pad(String(format: "%.4f", value), 12)
                   + (multi ? String(format: "%.4f ± %.4f", stat.mean, stat.std) : ""))
    }
    return lines.joined(separator: "\n")
  }
}

enum MauveTextTable {
  static func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
  static func formatNumber(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
