import Foundation

/// Diversity statistics of generated token sequences, on token ids (the tokenizer's, so every model is measured
/// the same way).
public enum GenerationMetrics {
  /// Mean over samples of the entropy (nats) of the sample's unigram token distribution — the authors'
  /// gen-PPL script's "entropy" (low values flag degenerate, repetitive text).
  public static func unigramEntropy(_ samples: [[Int32]]) -> Double {
    let nonEmpty = samples.filter { !$0.isEmpty }
    guard !nonEmpty.isEmpty else { return 0 }
    var total = 0.0
    for s in nonEmpty {
      var counts: [Int32: Int] = [:]
      for t in s { counts[t, default: 0] += 1 }
      let n = Double(s.count)
      total -= counts.values.reduce(0.0) { acc, c in let p = Double(c) / n; return acc + p * Foundation.log(p) }
    }
    return total / Double(nonEmpty.count)
  }

  /// distinct-n: distinct n-grams over all n-grams, pooled over every sample (n-grams never cross samples).
  public static func distinct(_ samples: [[Int32]], n: Int) -> Double {
    var seen = Set<[Int32]>()
    var total = 0
    for s in samples where s.count >= n {
      for i in 0...(s.count - n) {
        seen.insert(Array(s[i..<(i + n)]))
        total += 1
      }
    }
    return total == 0 ? 0 : Double(seen.count) / Double(total)
  }

  /// Mean over samples of the fraction of tokens that already occurred earlier in the same sample.
  public static func repetitionRate(_ samples: [[Int32]]) -> Double {
    let nonEmpty = samples.filter { !$0.isEmpty }
    guard !nonEmpty.isEmpty else { return 0 }
    var total = 0.0
    for s in nonEmpty {
      var seen = Set<Int32>()
      var repeats = 0
      for t in s { if !seen.insert(t).inserted { repeats += 1 } }
      total += Double(repeats) / Double(s.count)
    }
    return total / Double(nonEmpty.count)
  }
}
