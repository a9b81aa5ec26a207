import Foundation
import Mustache

/// Renders the generation-mode `mauve.json` as one self-contained HTML page (inline CSS and SVG, no scripts), with
/// Mustache templates as the zero-shot report: the view model formats every number and computes every coordinate,
/// Mustache escapes every value (generated text cannot inject markup).
public enum MauveGenerationReport {
  public static func render(_ doc: MauveGenerationDocument) throws -> String {
    var library = MustacheLibrary()
    try library.register(page, named: "page")
    guard let html = library.render(context(doc), withTemplate: "page") else {
      throw HarnessError.invalidArgument("the MAUVE report template is not registered")
    }
    return html
  }

  static func f(_ v: Double, _ digits: Int = 4) -> String { v.isFinite ? String(format: "%.\(digits)f", v) : "—" }

  static func context(_ doc: MauveGenerationDocument) -> [String: Any] {
    let p = doc.protocolSettings
    let colors = ["#2f5d9a", "#b3261e", "#1f7a3a", "#8a4b00", "#6a3d9a", "#00838f"]
    // Divergence curves: x = exp(−c·KL(Q‖R)), y = exp(−c·KL(P‖R)) on [0, 1]², one polyline per model.
    let size = 320.0, pad = 36.0
    let curves: [[String: Any]] = doc.results.enumerated().map { i, r in
      let points = r.divergenceCurve.map { pt in
        String(format: "%.1f,%.1f", pad + pt[0] * size, pad + (1 - pt[1]) * size)
      }.joined(separator: " ")
      return ["points": points, "color": colors[i % colors.count], "name": r.label, "legendY": String(format: "%.0f", pad + 16 + Double(i) * 16)]
    }
    let rows: [[String: Any]] = doc.results.map { r in
      let multi = r.seedSummary.seeds.count > 1
      return [
        "label": r.label, "family": r.family, "samples": String(r.samples),
        "mauve": multi ? "\(f(r.seedSummary.mauve.mean)) ± \(f(r.seedSummary.mauve.std))" : f(r.scores.mauve),
        "mauveStar": multi ? "\(f(r.seedSummary.mauveStar.mean)) ± \(f(r.seedSummary.mauveStar.std))" : f(r.scores.mauveStar),
        "fi": f(r.scores.frontierIntegral),
        "genPPL": r.generativePerplexity.map { "\(f($0.tokenWeighted, 2)) / \(f($0.meanOfSamples, 2))" } ?? "—",
        "entropy": f(r.text.unigramEntropy, 3), "d1": f(r.text.distinct1, 3), "d2": f(r.text.distinct2, 3),
        "d3": f(r.text.distinct3, 3), "rep": f(r.text.repetitionRate, 3),
        "excerpts": r.excerpts.map { ["prefix": $0.prefix, "generation": $0.generation] },
        "samplesFile": r.samplesFile ?? "",
      ]
    }
    return [
      "title": "ltm-bench mauve: \(p.prompts)",
      "protocol": "\(p.promptsUsed) prompts from \(p.prompts)\(p.split.map { " (\($0))" } ?? ""), \(p.prefixTokens) prefix tokens, "
        + "\(p.newTokens) new tokens, \(p.samplesPerPrompt) samples per prompt; sampling \(p.sampling.method.rawValue), "
        + "T \(p.sampling.temperature)\(p.sampling.topK.map { ", top-k \($0)" } ?? "")\(p.sampling.topP.map { ", top-p \($0)" } ?? "")"
        + doc.results.compactMap { r in r.sampler.map { "; \(r.label): \($0)" } }.joined(),
      "featurizer": p.featurizer, "scorer": p.scorer ?? "none",
      "seeds": doc.mauveSettings.seeds.map(String.init).joined(separator: ", "),
      "rows": rows, "curves": curves,
      "refEntropy": f(doc.reference.unigramEntropy, 3), "refD1": f(doc.reference.distinct1, 3),
      "refD2": f(doc.reference.distinct2, 3), "refD3": f(doc.reference.distinct3, 3), "refRep": f(doc.reference.repetitionRate, 3),
      "svgSize": String(Int(size + 2 * pad)), "axisEnd": String(Int(pad + size)), "pad": String(Int(pad)),
      "version": doc.tool.version,
    ]
  }

  static let page = #"""
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{title}}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem auto 3rem; max-width: 1120px; color: #1d2433; padding: 0 1.25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 2px solid #d8dde6; }
table { border-collapse: collapse; width: 100%; }
.scroll { overflow-x: auto; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e6e9ef; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.muted { color: #5b6474; } blockquote { margin: .3rem 0 .8rem; padding-left: .8rem; border-left: 3px solid #d8dde6; }
</style></head><body>
<h1>{{title}}</h1>
<p class="muted">{{protocol}}. Featurizer {{featurizer}}; scorer {{scorer}}; k-means seeds {{seeds}}.</p>
<h2>MAUVE</h2>
<div class="scroll"><table><thead><tr><th>model</th><th>family</th><th class="num">samples</th><th class="num">MAUVE</th><th class="num">MAUVE*</th>
<th class="num">frontier integral</th><th class="num">gen PPL (token / sample mean)</th><th class="num">entropy</th>
<th class="num">distinct-1</th><th class="num">distinct-2</th><th class="num">distinct-3</th><th class="num">repetition</th></tr></thead><tbody>
{{#rows}}<tr><td>{{label}}</td><td>{{family}}</td><td class="num">{{samples}}</td><td class="num">{{mauve}}</td><td class="num">{{mauveStar}}</td>
<td class="num">{{fi}}</td><td class="num">{{genPPL}}</td><td class="num">{{entropy}}</td><td class="num">{{d1}}</td><td class="num">{{d2}}</td>
<td class="num">{{d3}}</td><td class="num">{{rep}}</td></tr>
{{/rows}}<tr class="muted"><td>reference continuations</td><td></td><td></td><td></td><td></td><td></td><td></td><td class="num">{{refEntropy}}</td>
<td class="num">{{refD1}}</td><td class="num">{{refD2}}</td><td class="num">{{refD3}}</td><td class="num">{{refRep}}</td></tr>
</tbody></table></div>
<h2>Divergence curves</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="{{svgSize}}" height="{{svgSize}}" viewBox="0 0 {{svgSize}} {{svgSize}}" role="img">
<rect x="{{pad}}" y="{{pad}}" width="320" height="320" fill="none" stroke="#d8dde6"/>
<text x="{{pad}}" y="{{svgSize}}" font-size="11" fill="#5b6474" dy="-8">exp(−c·KL(Q‖R)) →</text>
<text x="4" y="{{pad}}" font-size="11" fill="#5b6474" dy="-8">exp(−c·KL(P‖R)) ↑</text>
{{#curves}}<polyline points="{{points}}" fill="none" stroke="{{color}}" stroke-width="1.8"/>
<text x="{{axisEnd}}" y="{{legendY}}" font-size="11" fill="{{color}}" text-anchor="end" dx="-6">{{name}}</text>
{{/curves}}</svg>
<h2>Samples</h2>
{{#rows}}<h3>{{label}}</h3>
{{#excerpts}}<blockquote><span class="muted">{{prefix}}</span> <strong>{{generation}}</strong></blockquote>
{{/excerpts}}<p class="muted">All samples: {{samplesFile}}</p>
{{/rows}}
<p class="muted">ltm-bench {{version}}</p>
</body></html>
"""#
}
