import Foundation
import LTMTensor
import XCTest
@testable import LTMModels

/// A plain, loop-by-loop Double implementation of the LTM decoder and NELBO (`model.py` read literally: full
/// masked attention, no tiles, no fused weights), used as the reference for finite differences.
struct LTMReference {
  let a: LTMModelArgs
  let emb: [Double]
  let final: [Double]
  struct Layer { var an, cn, fn, wq, wk, wv, wo, cq, ck, cv, co, gate, up, down: [Double] }
  let layers: [Layer]

  init(_ m: LTMModel) {
    a = m.config.modelArgs
    func dbl(_ b: FloatBuffer, _ lo: Int = 0, _ n: Int? = nil) -> [Double] {
      (lo..<(lo + (n ?? b.count - lo))).map { Double(b.pointer[$0]) }
    }
    let d = a.dim, f = a.ffnHiddenDim
    emb = dbl(m.embedding)
    final = dbl(m.finalNorm)
    layers = m.layers.map { w in
      Layer(
        an: dbl(w.attentionNorm), cn: dbl(w.crossNorm), fn: dbl(w.ffnNorm),
        wq: dbl(w.qkv, 0, d * d), wk: dbl(w.qkv, d * d, d * d), wv: dbl(w.qkv, 2 * d * d, d * d), wo: dbl(w.wo),
        cq: dbl(w.crossQ), ck: dbl(w.crossKV, 0, d * d), cv: dbl(w.crossKV, d * d, d * d), co: dbl(w.crossO),
        gate: dbl(w.gateUp, 0, f * d), up: dbl(w.gateUp, f * d, f * d), down: dbl(w.down))
    }
  }

  /// y[r] = W x[r] for nn.Linear W [out, in].
  static func linear(_ x: [[Double]], _ w: [Double], out: Int) -> [[Double]] {
    x.map { row in (0..<out).map { o in (0..<row.count).reduce(0.0) { $0 + w[o * row.count + $1] * row[$1] } } }
  }
  static func rms(_ x: [[Double]], _ g: [Double], eps: Double) -> [[Double]] {
    x.map { row in
      let r = 1 / (row.reduce(0.0) { $0 + $1 * $1 } / Double(row.count) + eps).squareRoot()
      return row.indices.map { row[$0] * r * g[$0] }
    }
  }
  static func rope(_ x: [[Double]], positions: [Int], headDim: Int) -> [[Double]] {
    x.enumerated().map { r, row in
      var out = row
      for c in stride(from: 0, to: row.count, by: 2) {
        let i = (c % headDim) / 2
        let freq = 1 / Foundation.pow(10000.0, Double(2 * i) / Double(headDim))
        let angle = Double(positions[r]) * freq
        out[c] = row[c] * Foundation.cos(angle) - row[c + 1] * Foundation.sin(angle)
        out[c + 1] = row[c] * Foundation.sin(angle) + row[c + 1] * Foundation.cos(angle)
      }
      return out
    }
  }
  /// Multi-head attention of queries q against k, v; `allowed(i, j)` is the mask.
  static func attention(_ q: [[Double]], _ k: [[Double]], _ v: [[Double]], heads: Int, allowed: (Int, Int) -> Bool) -> [[Double]] {
    let d = q[0].count, dh = d / heads
    var out = [[Double]](repeating: .init(repeating: 0, count: d), count: q.count)
    for h in 0..<heads {
      for i in q.indices {
        var scores: [Double] = [], idx: [Int] = []
        for j in k.indices where allowed(i, j) {
          var s = 0.0
          for c in 0..<dh { s += q[i][h * dh + c] * k[j][h * dh + c] }
          scores.append(s / Double(dh).squareRoot())
          idx.append(j)
        }
        let m = scores.max()!
        let e = scores.map { Foundation.exp($0 - m) }
        let total = e.reduce(0, +)
        for (n, j) in idx.enumerated() {
          for c in 0..<dh { out[i][h * dh + c] += e[n] / total * v[j][h * dh + c] }
        }
      }
    }
    return out
  }

  /// Σ CE of tokens[1...] given tokens[..<S] and z [N_z·d].
  func nll(_ block: [Int32], z: [Double]) -> Double {
    let d = a.dim, s = block.count - 1, h = a.nHeads, dh = a.headDim, m = a.latentsPerLayer, w = a.windowSize
    let eps = a.normEps
    var x = (0..<s).map { r in Array(emb[(Int(block[r]) * d)..<(Int(block[r]) * d + d)]) }
    let pos = Array(0..<s), zpos = (0..<m).map { $0 * a.latentPositionInterval }
    func add(_ x: inout [[Double]], _ y: [[Double]]) { for r in x.indices { for c in 0..<d { x[r][c] += y[r][c] } } }
    for (l, L) in layers.enumerated() {
      var n = Self.rms(x, L.an, eps: eps)
      let q = Self.rope(Self.linear(n, L.wq, out: d), positions: pos, headDim: dh)
      let k = Self.rope(Self.linear(n, L.wk, out: d), positions: pos, headDim: dh)
      let v = Self.linear(n, L.wv, out: d)
      add(&x, Self.linear(Self.attention(q, k, v, heads: h) { i, j in j <= i && j > i - w }, L.wo, out: d))
      n = Self.rms(x, L.cn, eps: eps)
      let zl = (0..<m).map { j in Array(z[((l * m + j) * d)..<((l * m + j) * d + d)]) }
      let cq = Self.rope(Self.linear(n, L.cq, out: d), positions: pos, headDim: dh)
      var ck = Self.linear(zl, L.ck, out: d)
      if a.useZPosEmb { ck = Self.rope(ck, positions: zpos, headDim: dh) }
      let cv = Self.linear(zl, L.cv, out: d)
      add(&x, Self.linear(Self.attention(cq, ck, cv, heads: h) { _, _ in true }, L.co, out: d))
      n = Self.rms(x, L.fn, eps: eps)
      let f = a.ffnHiddenDim
      let g = Self.linear(n, L.gate, out: f), u = Self.linear(n, L.up, out: f)
      let hid = g.indices.map { r in (0..<f).map { j in g[r][j] / (1 + Foundation.exp(-g[r][j])) * u[r][j] } }
      add(&x, Self.linear(hid, L.down, out: d))
    }
    let hN = Self.rms(x, final, eps: eps)
    var total = 0.0
    for r in 0..<s {
      let logits = (0..<a.vocabSize).map { t in (0..<d).reduce(0.0) { $0 + hN[r][$1] * emb[t * d + $1] } }
      let mx = logits.max()!
      total += mx + Foundation.log(logits.reduce(0.0) { $0 + Foundation.exp($1 - mx) }) - logits[Int(block[r + 1])]
    }
    return total
  }

  func nelbo(_ block: [Int32], mu: [Double], logvar: [Double], eps: [Double]) -> Double {
    let z = mu.indices.map { mu[$0] + eps[$0] * Foundation.exp(0.5 * logvar[$0]) }
    let kl = mu.indices.reduce(0.0) { $0 - 0.5 * (1 + logvar[$1] - mu[$1] * mu[$1] - Foundation.exp(logvar[$1])) }
    return nll(block, z: z) + kl
  }
}

/// Hand-written backward passes against central finite differences of Double references.
final class LTMGradientTests: XCTestCase {
  override func setUp() { BLAS.threads = 2 }

  static func tinyConfig(window: Int = 6, useZPosEmb: Bool = true) -> LTMConfig {
    LTMConfig(modelArgs: LTMModelArgs(
      dim: 8, nLayers: 2, nHeads: 2, vocabSize: 13, multipleOf: 4, maxSeqLen: 64, windowSize: window, maxZLen: 4,
      useZPosEmb: useZPosEmb))
  }

  func random(_ n: Int, _ rng: inout SplitMix64, scale: Float = 1, offset: Float = 0) -> [Float] {
    (0..<n).map { _ in offset + scale * (rng.nextFloat() * 2 - 1) }
  }

  /// ‖a − b‖ / ‖b‖.
  func relErr(_ a: [Double], _ b: [Double]) -> Double {
    var num = 0.0, den = 0.0
    for i in a.indices {
      num += (a[i] - b[i]) * (a[i] - b[i])
      den += b[i] * b[i]
    }
    return (num / den).squareRoot()
  }

  /// Central differences of f at x, every coordinate.
  func numericGradient(_ x: [Double], h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
    x.indices.map { i in
      var p = x, q = x
      p[i] += h
      q[i] -= h
      return (f(p) - f(q)) / (2 * h)
    }
  }

  // MARK: Whole model

  /// The NELBO and its gradient (through every layer, both attentions, RoPE, RMSNorm, SwiGLU, the tied head) match
  /// the Double reference and its central differences, with and without latent RoPE, and across attention tiles.
  func testWholeModelGradientMatchesFiniteDifferences() throws {
    for (window, zpos) in [(6, true), (64, false)] {
      let model = LTMModel.random(config: Self.tinyConfig(window: window, useZPosEmb: zpos), seed: 11, scale: 0.5)
      let ref = LTMReference(model)
      var rng = SplitMix64(seed: 3)
      let n = 4 * 8
      let blocks = (0..<2).map { _ in (0..<41).map { _ in Int32(rng.next() % 13) } }  // 40 inputs: 3 tiles of 16
      let starts = (0..<2).map { _ in
        LTMPosteriorStart(mu: random(n, &rng, scale: 0.8), logvar: random(n, &rng, scale: 0.5, offset: -1), eps: random(n, &rng))
      }
      let g = try model.nelboGradient(blocks: blocks, at: starts)
      for b in 0..<2 {
        let mu = starts[b].mu.map(Double.init), lv = starts[b].logvar.map(Double.init), eps = starts[b].eps.map(Double.init)
        let value = ref.nelbo(blocks[b], mu: mu, logvar: lv, eps: eps)
        XCTAssertEqual(g.nll[b] + g.kl[b], value, accuracy: 2e-6 * abs(value), "NELBO, window \(window)")
        let numMu = numericGradient(mu) { ref.nelbo(blocks[b], mu: $0, logvar: lv, eps: eps) }
        let numLv = numericGradient(lv) { ref.nelbo(blocks[b], mu: mu, logvar: $0, eps: eps) }
        let eMu = relErr(g.gradMu[b].map(Double.init), numMu), eLv = relErr(g.gradLogvar[b].map(Double.init), numLv)
        XCTAssertLessThan(eMu, 1e-4, "∂/∂μ block \(b), window \(window), z RoPE \(zpos)")
        XCTAssertLessThan(eLv, 1e-4, "∂/∂log σ² block \(b), window \(window), z RoPE \(zpos)")
      }
    }
  }

  // MARK: Pieces

  func testRMSNormBackward() {
    var rng = SplitMix64(seed: 1)
    let rows = 3, cols = 19
    let x = random(rows * cols, &rng), gamma = random(cols, &rng, scale: 0.3, offset: 1), dy = random(rows * cols, &rng)
    var out = [Float](repeating: 0, count: rows * cols), rstd = [Float](repeating: 0, count: rows)
    var dx = [Float](repeating: 0.5, count: rows * cols)
    RMSNorm.forward(x, rows: rows, cols: cols, gamma: gamma, eps: 1e-5, out: &out, rstd: &rstd)
    RMSNorm.backward(x, rstd: rstd, gamma: gamma, dy: dy, rows: rows, cols: cols, dx: &dx, accumulate: true)
    let reference = LTMReference.rms((0..<rows).map { r in x[(r * cols)..<((r + 1) * cols)].map(Double.init) }, gamma.map(Double.init), eps: 1e-5)
    XCTAssertLessThan(relErr(out.map(Double.init), reference.flatMap { $0 }), 1e-6)
    let num = numericGradient(x.map(Double.init)) { xs in
      let y = LTMReference.rms((0..<rows).map { r in Array(xs[(r * cols)..<((r + 1) * cols)]) }, gamma.map(Double.init), eps: 1e-5)
      return y.flatMap { $0 }.indices.reduce(0.0) { $0 + y.flatMap { $0 }[$1] * Double(dy[$1]) }
    }
    XCTAssertLessThan(relErr(dx.map { Double($0) - 0.5 }, num), 1e-5)
  }

  func testSwiGLUBackward() {
    var rng = SplitMix64(seed: 2)
    let rows = 2, f = 13
    let gu = random(rows * 2 * f, &rng, scale: 4), dh = random(rows * f, &rng)
    var hidden = [Float](repeating: 0, count: rows * f), dgu = [Float](repeating: 0, count: rows * 2 * f)
    SwiGLU.forward(gu, rows: rows, hidden: f, out: &hidden)
    SwiGLU.backward(gu, dHidden: dh, rows: rows, hidden: f, dgu: &dgu)
    func ref(_ x: [Double]) -> [Double] {
      (0..<rows).flatMap { r in (0..<f).map { j in x[r * 2 * f + j] / (1 + Foundation.exp(-x[r * 2 * f + j])) * x[r * 2 * f + f + j] } }
    }
    XCTAssertLessThan(relErr(hidden.map(Double.init), ref(gu.map(Double.init))), 1e-6)
    let num = numericGradient(gu.map(Double.init)) { x in zip(ref(x), dh).reduce(0.0) { $0 + $1.0 * Double($1.1) } }
    XCTAssertLessThan(relErr(dgu.map(Double.init), num), 1e-5)
  }

  func testRoPEInverseIsTheTransposeAndTablesMatchTheFormula() {
    let table = RoPETable(headDim: 8, positions: 1024)
    var rng = SplitMix64(seed: 3)
    let rows = 5, heads = 3, stride = 3 * 8 + 2
    let positions = [0, 1, 42, 1008, 1023]
    let x = random(rows * stride, &rng), y = random(rows * stride, &rng)
    var rx = x, ry = y
    RoPE.apply(&rx, rows: rows, rowStride: stride, heads: heads, table: table) { positions[$0] }
    RoPE.apply(&ry, rows: rows, rowStride: stride, heads: heads, table: table, inverse: true) { positions[$0] }
    // ⟨R x, y⟩ = ⟨x, Rᵀ y⟩; columns past the heads are untouched.
    var lhs = 0.0, rhs = 0.0
    for i in x.indices {
      lhs += Double(rx[i]) * Double(y[i])
      rhs += Double(x[i]) * Double(ry[i])
    }
    XCTAssertEqual(lhs, rhs, accuracy: 1e-5)
    for r in 0..<rows { XCTAssertEqual(rx[r * stride + 24], x[r * stride + 24]) }
    var back = rx
    RoPE.apply(&back, rows: rows, rowStride: stride, heads: heads, table: table, inverse: true) { positions[$0] }
    for i in x.indices { XCTAssertEqual(back[i], x[i], accuracy: 1e-5) }
    let ref = LTMReference.rope(
      (0..<rows).map { r in x[(r * stride)..<(r * stride + 8)].map(Double.init) }, positions: positions, headDim: 8)
    for r in 0..<rows {
      for c in 0..<8 { XCTAssertEqual(Double(rx[r * stride + c]), ref[r][c], accuracy: 2e-4, "row \(r) col \(c)") }
    }
  }

  /// Windowed attention forward and backward, with several tiles and a window wider than a tile.
  func testWindowAttentionForwardAndBackward() {
    for (length, window, dh) in [(150, 40, 4), (37, 5, 2), (20, 64, 4)] {
      let g = LTMAttention.Window(length: length, window: window, headDim: dh)
      var rng = SplitMix64(seed: UInt64(length))
      let ld = 3 * dh + 1  // q | k | v | pad, to exercise strides
      let qkv = random(length * ld, &rng, scale: 1.5), dOut = random(length * dh, &rng)
      var out = [Float](repeating: 0, count: length * dh), probs = [Float](repeating: 0, count: g.probsPerHead)
      var dqkv = [Float](repeating: 0, count: length * ld), scratch = [Float](repeating: 0, count: g.tile * g.maxKeys)
      qkv.withUnsafeBufferPointer { p in
        let b = p.baseAddress!
        LTMAttention.windowForward(g, q: b, k: b + dh, v: b + 2 * dh, ld: ld, out: &out, ldo: dh, probs: &probs)
        dqkv.withUnsafeMutableBufferPointer { d in
          let db = d.baseAddress!
          LTMAttention.windowBackward(
            g, q: b, k: b + dh, v: b + 2 * dh, ld: ld, probs: probs, dOut: dOut, lddo: dh, dq: db, dk: db + dh, dv: db + 2 * dh,
            ldd: ld, scratch: &scratch)
        }
      }
      func ref(_ x: [Double]) -> [[Double]] {
        let rows = (0..<length).map { r in Array(x[(r * ld)..<(r * ld + ld)]) }
        return LTMReference.attention(
          rows.map { Array($0[0..<dh]) }, rows.map { Array($0[dh..<(2 * dh)]) }, rows.map { Array($0[(2 * dh)..<(3 * dh)]) },
          heads: 1) { i, j in j <= i && j > i - window }
      }
      let x = qkv.map(Double.init)
      XCTAssertLessThan(relErr(out.map(Double.init), ref(x).flatMap { $0 }), 1e-6, "forward S \(length) W \(window)")
      let num = numericGradient(x) { xs in zip(ref(xs).flatMap { $0 }, dOut).reduce(0.0) { $0 + $1.0 * Double($1.1) } }
      var got = dqkv.map(Double.init), want = num
      for r in 0..<length {  // the pad column has no gradient
        got[r * ld + 3 * dh] = 0
        want[r * ld + 3 * dh] = 0
      }
      XCTAssertLessThan(relErr(got, want), 1e-5, "backward S \(length) W \(window)")
    }
  }

  func testCrossAttentionForwardAndBackward() {
    let rows = 23, latents = 3, dh = 4
    var rng = SplitMix64(seed: 9)
    let q = random(rows * dh, &rng, scale: 2), kv = random(latents * 2 * dh, &rng, scale: 2), dOut = random(rows * dh, &rng)
    var out = [Float](repeating: 0, count: rows * dh), probs = [Float](repeating: 0, count: rows * latents)
    var dq = [Float](repeating: 0, count: rows * dh), dkv = [Float](repeating: 0, count: latents * 2 * dh)
    var scratch = [Float](repeating: 0, count: rows * latents)
    kv.withUnsafeBufferPointer { p in
      let b = p.baseAddress!
      LTMAttention.crossForward(rows: rows, latents: latents, headDim: dh, q: q, ldq: dh, k: b, v: b + dh, ldkv: 2 * dh, out: &out, ldo: dh, probs: &probs)
      dkv.withUnsafeMutableBufferPointer { d in
        LTMAttention.crossBackward(
          rows: rows, latents: latents, headDim: dh, q: q, ldq: dh, k: b, v: b + dh, ldkv: 2 * dh, probs: probs, dOut: dOut, lddo: dh,
          dq: &dq, lddq: dh, dk: d.baseAddress!, dv: d.baseAddress! + dh, lddkv: 2 * dh, scratch: &scratch)
      }
    }
    func ref(_ q: [Double], _ kv: [Double]) -> [Double] {
      LTMReference.attention(
        (0..<rows).map { Array(q[($0 * dh)..<($0 * dh + dh)]) }, (0..<latents).map { Array(kv[($0 * 2 * dh)..<($0 * 2 * dh + dh)]) },
        (0..<latents).map { Array(kv[($0 * 2 * dh + dh)..<($0 * 2 * dh + 2 * dh)]) }, heads: 1) { _, _ in true }.flatMap { $0 }
    }
    let qd = q.map(Double.init), kvd = kv.map(Double.init)
    XCTAssertLessThan(relErr(out.map(Double.init), ref(qd, kvd)), 1e-6)
    func loss(_ o: [Double]) -> Double { zip(o, dOut).reduce(0.0) { $0 + $1.0 * Double($1.1) } }
    XCTAssertLessThan(relErr(dq.map(Double.init), numericGradient(qd) { loss(ref($0, kvd)) }), 1e-5)
    XCTAssertLessThan(relErr(dkv.map(Double.init), numericGradient(kvd) { loss(ref(qd, $0)) }), 1e-5)
  }

  /// Float decoder vs the Double reference on the token NLL (forward only, no gradient).
  func testForwardMatchesReference() throws {
    let model = LTMModel.random(config: Self.tinyConfig(), seed: 5, scale: 0.5)
    let ref = LTMReference(model)
    var rng = SplitMix64(seed: 8)
    let block = (0..<30).map { _ in Int32(rng.next() % 13) }
    let z = random(32, &rng)
    let nll = try model.tokenNLL(blocks: [block], z: [z])[0]
    let want = ref.nll(block, z: z.map(Double.init))
    XCTAssertEqual(nll.reduce(0.0) { $0 + Double($1) }, want, accuracy: 1e-6 * want)
  }
}
