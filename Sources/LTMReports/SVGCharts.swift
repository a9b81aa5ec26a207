import Foundation

/// Chart geometry for the HTML report. Coordinates are computed here and handed to the Mustache templates as
/// strings; the markup itself lives in `HTMLReportTemplate`.
enum ChartPalette {
  /// Distinguishable in colour and in greyscale print (alternating dark and light).
  static let colors = ["#2f5d9a", "#d9822b", "#3f8f4f", "#a23b72", "#6b5b95", "#8c6d31", "#1b8a8a", "#b03a2e"]

  static func color(_ index: Int) -> String { colors[index % colors.count] }
}

/// Short tick labels: 1, 20, 500, 3k, 250k, 1.2M.
func compactNumber(_ v: Double) -> String {
  let a = abs(v)
  if a >= 1e6 { return String(format: "%gM", (v / 1e5).rounded() / 10) }
  if a >= 1e4 { return String(format: "%gk", (v / 1e2).rounded() / 10) }
  if a >= 100 { return String(format: "%.0f", v) }
  return String(format: "%.3g", v)
}

private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

/// A one-dimensional mapping from data values to pixels: linear or log10, with readable ticks.
struct Axis {
  var lower: Double
  var upper: Double
  var logarithmic: Bool
  var pixelStart: Double
  var pixelEnd: Double

  func position(_ v: Double) -> Double {
    let t = logarithmic ? log10(max(v, 1e-300)) : v
    let lo = logarithmic ? log10(lower) : lower
    let hi = logarithmic ? log10(upper) : upper
    let frac = hi > lo ? (t - lo) / (hi - lo) : 0.5
    return pixelStart + min(max(frac, 0), 1) * (pixelEnd - pixelStart)
  }

  /// About five ticks: 1-2-5 steps on a linear axis, powers of ten (or 1-2-5 per decade when few) on a log axis.
  func ticks() -> [Double] {
    if logarithmic {
      let lo = Int(floor(log10(lower))), hi = Int(ceil(log10(upper)))
      let decades = Array(lo...hi).map { pow(10, Double($0)) }
      var candidates = decades
      if hi - lo <= 2 { candidates = decades.flatMap { [$0, 2 * $0, 5 * $0] } }
      let inside = candidates.filter { $0 >= lower * (1 - 1e-9) && $0 <= upper * (1 + 1e-9) }
      if inside.count > 8 {
        let stride = Int(ceil(Double(inside.count) / 7))
        return inside.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
      }
      return inside
    }
    let step = Axis.niceStep((upper - lower) / 6)
    guard step > 0 else { return [lower] }
    var out: [Double] = []
    var v = (lower / step).rounded(.up) * step
    while v <= upper + step * 1e-9 {
      out.append(abs(v) < step * 1e-9 ? 0 : v)
      v += step
    }
    return out
  }

  static func niceStep(_ raw: Double) -> Double {
    guard raw > 0, raw.isFinite else { return 0 }
    let magnitude = pow(10, floor(log10(raw)))
    let f = raw / magnitude
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude
  }

  /// An axis around `values` with 5% padding; logarithmic when they span more than a factor of `logAbove`.
  static func fitting(_ values: [Double], pixelStart: Double, pixelEnd: Double, logAbove: Double) -> Axis {
    let lo = values.min() ?? 1, hi = values.max() ?? 1
    if lo > 0, hi / lo > logAbove {
      let pad = (log10(hi) - log10(lo)) * 0.05
      return Axis(lower: pow(10, log10(lo) - pad), upper: pow(10, log10(hi) + pad), logarithmic: true, pixelStart: pixelStart, pixelEnd: pixelEnd)
    }
    let span = hi - lo
    let pad = span > 0 ? span * 0.08 : max(abs(hi) * 0.01, 1e-9)
    return Axis(lower: lo - pad, upper: hi + pad, logarithmic: false, pixelStart: pixelStart, pixelEnd: pixelEnd)
  }
}

/// Horizontal bars for one task, one per result row, on a log axis from 1 (a perfect model) to the next power of
/// ten above the largest value: perplexities of random and trained models differ by orders of magnitude. A
/// baseline value, when known, is a black tick across its bar.
struct BarChart {
  struct Bar {
    var label: String
    var value: Double
    var valueLabel: String
    var colorIndex: Int
    var baseline: Double?
  }

  var bars: [Bar]
  let width = 960.0
  let labelWidth = 230.0
  let valueWidth = 130.0
  let barHeight = 18.0
  let gap = 6.0

  func context() -> [String: Any] {
    let maxValue = bars.flatMap { [$0.value, $0.baseline ?? 1] }.filter(\.isFinite).max() ?? 10
    let decades = max(1, Int(ceil(log10(max(maxValue, 1.0001)))))
    let axis = Axis(lower: 1, upper: pow(10, Double(decades)), logarithmic: true, pixelStart: labelWidth, pixelEnd: width - valueWidth)
    var y = 4.0
    var rows: [[String: Any]] = []
    for bar in bars {
      let end = axis.position(max(bar.value, 1))
      var row: [String: Any] = [
        "labelX": fmt(labelWidth - 8), "textY": fmt(y + barHeight - 5), "label": bar.label,
        "x": fmt(labelWidth), "y": fmt(y), "w": fmt(max(end - labelWidth, 1.5)), "h": fmt(barHeight),
        "color": ChartPalette.color(bar.colorIndex), "valueX": fmt(end + 6), "value": bar.valueLabel,
      ]
      if let b = bar.baseline, b.isFinite {
        row["baselineMark"] = ["x": fmt(axis.position(max(b, 1))), "y1": fmt(y - 3), "y2": fmt(y + barHeight + 3)]
      }
      rows.append(row)
      y += barHeight + gap
    }
    let axisY = y + 2
    let tickStep = decades > 7 ? 2 : 1
    let ticks: [[String: String]] = stride(from: 0, through: decades, by: tickStep).map { d in
      let x = axis.position(pow(10, Double(d)))
      return ["x": fmt(x), "y1": fmt(4), "y2": fmt(axisY + 4), "labelY": fmt(axisY + 16), "label": compactNumber(pow(10, Double(d)))]
    }
    return [
      "width": fmt(width), "height": fmt(axisY + 22), "bars": rows, "ticks": ticks,
      "axisX1": fmt(labelWidth), "axisX2": fmt(width - valueWidth), "axisY": fmt(axisY),
    ]
  }
}

/// The LTM inference-steps curve of one task: the perplexity bound against posterior-inference steps, one solid
/// line per model (the fitted-ε bound the paper reports) and, when present, a dashed line of the same colour for
/// the fresh-ε re-estimate. The few-shot report draws accuracy against shots with the same chart (its titles,
/// value format and a linear y axis passed in).
struct StepsChart {
  struct Series {
    var label: String
    var colorIndex: Int
    /// (steps, bound) sorted by steps.
    var points: [(steps: Int, value: Double)]
    var fresh: [(steps: Int, value: Double)]
  }

  var series: [Series]
  var xTitle = "posterior-inference steps"
  var yTitle = "PPL bound ≤"
  var xUnit = "steps"
  var formatValue: (Double) -> String = { "≤ " + formatPPL($0) }
  /// The y axis turns logarithmic when the values span more than this factor (never for accuracies).
  var logAbove = 3.0
  /// A fixed linear y range (rates: 0…1), instead of one fitted around the values.
  var yRange: ClosedRange<Double>?
  let width = 960.0
  let height = 320.0
  let left = 72.0
  let right = 190.0
  let top = 14.0
  let bottom = 46.0

  func context() -> [String: Any] {
    let steps = series.flatMap { $0.points.map(\.steps) + $0.fresh.map(\.steps) }
    let values = series.flatMap { $0.points.map(\.value) + $0.fresh.map(\.value) }
    let xs = steps.map(Double.init)
    let logX = (xs.min() ?? 0) > 0 && (xs.max() ?? 1) / (xs.min() ?? 1) >= 4
    let xLo = xs.min() ?? 0, xHi = xs.max() ?? 1
    let x = Axis(lower: xLo, upper: xHi == xLo ? xLo + 1 : xHi, logarithmic: logX, pixelStart: left + 10, pixelEnd: width - right - 10)
    let y = yRange.map { Axis(lower: $0.lowerBound, upper: $0.upperBound, logarithmic: false, pixelStart: height - bottom, pixelEnd: top) }
      ?? Axis.fitting(values, pixelStart: height - bottom, pixelEnd: top, logAbove: logAbove)
    func points(_ p: [(steps: Int, value: Double)]) -> [[String: String]] {
      p.map { ["cx": fmt(x.position(Double($0.steps))), "cy": fmt(y.position($0.value)), "title": "\($0.steps) \(xUnit): \(formatValue($0.value))"] }
    }
    func polyline(_ p: [(steps: Int, value: Double)]) -> String {
      p.map { "\(fmt(x.position(Double($0.steps)))),\(fmt(y.position($0.value)))" }.joined(separator: " ")
    }
    var legendY = top + 8
    let lines: [[String: Any]] = series.map { s in
      let color = ChartPalette.color(s.colorIndex)
      var line: [String: Any] = [
        "color": color, "points": polyline(s.points), "dots": points(s.points), "label": s.label,
        "legendX1": fmt(width - right + 12), "legendX2": fmt(width - right + 36), "legendY": fmt(legendY),
        "legendTextX": fmt(width - right + 42), "legendTextY": fmt(legendY + 4),
      ]
      legendY += 18
      if !s.fresh.isEmpty {
        line["fresh"] = [
          "points": polyline(s.fresh), "dots": points(s.fresh), "legendY": fmt(legendY), "legendTextY": fmt(legendY + 4),
        ]
        legendY += 18
      }
      return line
    }
    let distinctSteps = Array(Set(steps)).sorted()
    return [
      "width": fmt(width), "height": fmt(max(height, legendY + 10)), "lines": lines,
      "xTicks": distinctSteps.map { ["x": fmt(x.position(Double($0))), "label": String($0)] },
      "yTicks": y.ticks().map { ["y": fmt(y.position($0)), "label": compactNumber($0)] },
      "plotLeft": fmt(left), "plotRight": fmt(width - right), "plotTop": fmt(top), "plotBottom": fmt(height - bottom),
      "xTickLabelY": fmt(height - bottom + 16), "yTickLabelX": fmt(left - 6),
      "xTitleX": fmt((left + width - right) / 2), "xTitleY": fmt(height - 8),
      "yTitleX": fmt(16), "yTitleY": fmt((top + height - bottom) / 2),
      "xScale": logX ? "log scale" : "linear scale", "yScale": y.logarithmic ? "log scale" : "linear scale",
      "xTitle": xTitle, "yTitle": yTitle,
    ]
  }
}
