import Foundation
import LTMTensor

/// One finished beam-search hypothesis: the generated tokens (a stop token, when it ended one, included) and its
/// score Σ log p / generated_length^length_penalty.
public struct BeamHypothesis: Sendable, Equatable {
  public var tokens: [Int32]
  public var score: Float
}

extension GPT2KVCache {
  /// Row j takes the keys and values (and length) of row `source[j]`: the cache follows the beams when beam search
  /// re-selects them. Only rows that change are written, and only their filled positions are copied.
  public func reorder(rows source: [Int]) {
    precondition(source.count == batch && source.allSatisfy { (0..<batch).contains($0) }, "reorder needs one source row per row")
    let changed = (0..<batch).filter { source[$0] != $0 }
    guard !changed.isEmpty else { return }
    let needed = Array(Set(changed.map { source[$0] })).sorted()
    let slot = Dictionary(uniqueKeysWithValues: needed.enumerated().map { ($1, $0) })
    let perHead = capacity * headSize
    let saved = FloatBuffer(count: needed.count * heads * perHead)
    for buffer in keys + values {
      let p = buffer.pointer
      for (i, row) in needed.enumerated() {
        for h in 0..<heads {
          (saved.pointer + (i * heads + h) * perHead).update(from: p + offset(row: row, head: h), count: lengths[row] * headSize)
        }
      }
      for j in changed {
        let s = slot[source[j]]!
        for h in 0..<heads {
          (p + offset(row: j, head: h)).update(from: saved.pointer + (s * heads + h) * perHead, count: lengths[source[j]] * headSize)
        }
      }
    }
    lengths = source.map { lengths[$0] }
  }
}

extension GPT2Model {
  /// Beam search as Hugging Face transformers 5.23 `GenerationMixin._beam_search` computes it (do_sample false,
  /// early_stopping false, batch of one prompt), with the KV cache holding the beams as batch rows:
  ///
  /// - the B running beams start as the prompt with scores (0, −1e9, …), so the first step expands beam 0 only;
  /// - each step adds log_softmax(logits) (fp32) to the running scores and keeps the top K = max(2, 1 + #stop)·B of
  ///   all B·V continuations; a continuation "hits" when its token is a stop token or the length reaches
  ///   `maxNewTokens`;
  /// - the next running beams are the top B of those K with hits pushed down by −1e9;
  /// - hits among the first B of the K become finished hypotheses with score Σ logp / (generated length)^lp
  ///   (the stop token counted), kept if they beat the B best finished so far;
  /// - it stops when every continuation hits, or when the best running score / (current length)^lp can no longer
  ///   beat the worst of B finished hypotheses (transformers' early_stopping=False heuristic).
  ///
  /// Returns the `returned` best finished hypotheses, best first.
  public func beamSearch(
    prompt: [Int32], beams: Int, returned: Int, maxNewTokens: Int, stopTokens: [Int32], lengthPenalty: Double = 1
  ) throws -> [BeamHypothesis] {
    guard beams >= 1 else { throw ModelError.badInput("beam search needs at least one beam, got \(beams)") }
    guard (1...beams).contains(returned) else {
      throw ModelError.badInput("beam search returns 1...\(beams) sequences (num_return_sequences ≤ num_beams), \(returned) were asked")
    }
    guard !prompt.isEmpty, maxNewTokens >= 1 else { throw ModelError.badInput("beam search needs a prompt and max_new_tokens ≥ 1") }
    let b = beams, v = config.vocabSize
    let stops = Set(stopTokens)
    let keep = Swift.max(2, 1 + stops.count) * b
    let cache = try makeCache(batch: b, capacity: prompt.count + maxNewTokens)
    // Prefill row 0 only and copy it to the other rows (every beam starts as the prompt).
    let first = try extend(cache, tokens: [prompt] + [[Int32]](repeating: [], count: b - 1))
    cache.reorder(rows: [Int](repeating: 0, count: b))
    var logits = [Float](repeating: 0, count: b * v)
    for r in 0..<b { logits.replaceSubrange((r * v)..<((r + 1) * v), with: first[0..<v]) }

    var running = [[Int32]](repeating: [], count: b)
    var runningScores = [Float](repeating: -1e9, count: b)
    runningScores[0] = 0
    var finished = [(tokens: [Int32], score: Float, done: Bool)](repeating: ([], -1e9, false), count: b)
    var improvable = true
    var generated = 0
    func penalty(_ length: Int) -> Float { Float(Foundation.pow(Double(length), lengthPenalty)) }

    while true {
      // Accumulated scores of every (beam, token), and the top K of them (ties: lower flat index, as a stable sort).
      var top: [(score: Float, index: Int)] = []
      top.reserveCapacity(keep + 1)
      logits.withUnsafeBufferPointer { lb in
        for r in 0..<b {
          let row = lb.baseAddress! + r * v
          let m = VectorMath.max(row, count: v)
          let logSum = Float(Foundation.log(VectorMath.sumExpShifted(row, shift: m, count: v)))
          for t in 0..<v {
            let s = ((row[t] - m) - logSum) + runningScores[r]
            if top.count == keep, s <= top[keep - 1].score { continue }
            var at = top.count
            while at > 0, top[at - 1].score < s { at -= 1 }
            top.insert((s, r * v + t), at: at)
            if top.count > keep { top.removeLast() }
          }
        }
      }
      let candidates = top.map { (beam: $0.index / v, token: Int32($0.index % v), score: $0.score) }
      let hits = candidates.map { stops.contains($0.token) || generated + 1 >= maxNewTokens }

      // Next running beams: the top B with hits pushed down.
      let pushed = zip(candidates, hits).map { $0.score + ($1 ? -1e9 : 0) }
      let order = pushed.indices.sorted { pushed[$0] > pushed[$1] || (pushed[$0] == pushed[$1] && $0 < $1) }.prefix(b)

      // Finished hypotheses: merge the B best so far with the candidates that just finished among the top B.
      var merged = finished
      for (k, c) in candidates.enumerated() {
        var s = c.score / penalty(generated + 1)
        if !improvable { s += -1e9 }
        let did = hits[k] && k < b
        if !did { s += -1e9 }
        merged.append((running[c.beam] + [c.token], s, did))
      }
      let best = merged.indices.sorted { merged[$0].score > merged[$1].score || (merged[$0].score == merged[$1].score && $0 < $1) }
      finished = best.prefix(b).map { merged[$0] }

      let sources = order.map { candidates[$0].beam }
      running = order.map { running[candidates[$0].beam] + [candidates[$0].token] }
      runningScores = order.map { pushed[$0] }
      generated += 1

      // transformers' early_stopping=False heuristic: can the best running beam at the current length still beat
      // the worst finished hypothesis (any unfinished slot counts as −1e9)?
      let bestPossible = runningScores[0] / penalty(generated)
      let worst: Float = finished.allSatisfy(\.done) ? finished.map(\.score).min()! : -1e9
      improvable = improvable && bestPossible > worst
      if !improvable || hits.allSatisfy({ $0 }) { break }

      cache.reorder(rows: sources)
      logits = try extend(cache, tokens: running.map { [$0.last!] })
    }
    return finished.prefix(returned).map { BeamHypothesis(tokens: $0.tokens, score: $0.score) }
  }
}
