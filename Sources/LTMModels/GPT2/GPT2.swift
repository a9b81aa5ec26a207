import Foundation
import LTMCheckpoint
import LTMTensor

/// `config.json` of a Hugging Face GPT-2 checkpoint (the fields the forward pass depends on).
public struct GPT2Config: Codable, Sendable, Equatable {
  public var nEmbd: Int
  public var nLayer: Int
  public var nHead: Int
  public var nPositions: Int
  public var vocabSize: Int
  public var layerNormEpsilon: Double
  public var nInner: Int?
  public var activationFunction: String?
  public var scaleAttnWeights: Bool?
  public var scaleAttnByInverseLayerIdx: Bool?
  public var tieWordEmbeddings: Bool?

  enum CodingKeys: String, CodingKey {
    case nEmbd = "n_embd", nLayer = "n_layer", nHead = "n_head", nPositions = "n_positions", vocabSize = "vocab_size"
    case layerNormEpsilon = "layer_norm_epsilon", nInner = "n_inner", activationFunction = "activation_function"
    case scaleAttnWeights = "scale_attn_weights", scaleAttnByInverseLayerIdx = "scale_attn_by_inverse_layer_idx"
    case tieWordEmbeddings = "tie_word_embeddings"
  }

  public init(nEmbd: Int, nLayer: Int, nHead: Int, nPositions: Int, vocabSize: Int, layerNormEpsilon: Double = 1e-5) {
    self.nEmbd = nEmbd
    self.nLayer = nLayer
    self.nHead = nHead
    self.nPositions = nPositions
    self.vocabSize = vocabSize
    self.layerNormEpsilon = layerNormEpsilon
  }

  public var innerSize: Int { nInner ?? 4 * nEmbd }
  public var headSize: Int { nEmbd / nHead }

  /// Refuses settings this implementation does not compute, rather than silently scoring a different model.
  public func validate(source: String) throws {
    func bad(_ reason: String) -> ModelError { .unsupportedConfig(path: source, reason: reason) }
    guard nEmbd > 0, nLayer > 0, nHead > 0, nPositions > 0, vocabSize > 0 else { throw bad("sizes must be positive") }
    guard nEmbd % nHead == 0 else { throw bad("n_embd \(nEmbd) is not divisible by n_head \(nHead)") }
    if let a = activationFunction, a != "gelu_new" { throw bad("activation_function \(a) (only gelu_new is implemented)") }
    if scaleAttnWeights == false { throw bad("scale_attn_weights false is not implemented") }
    if scaleAttnByInverseLayerIdx == true { throw bad("scale_attn_by_inverse_layer_idx true is not implemented") }
    if tieWordEmbeddings == false { throw bad("tie_word_embeddings false (an untied lm_head) is not implemented") }
  }
}

/// GPT-2 (Hugging Face `GPT2LMHeadModel` layout): learned positions, pre-LayerNorm blocks, causal softmax attention,
/// `gelu_new` MLP, final LayerNorm, output tied to the token embedding. fp32 throughout; every projection and both
/// attention products are `cblas_sgemm` calls over whole batches of blocks.
public final class GPT2Model: BlockScoringModel {
  public let config: GPT2Config
  public let descriptor: ModelDescriptor

  struct Layer {
    var ln1Gamma, ln1Beta: FloatBuffer
    /// Conv1D layout [in, out]: y = x·W + b, so these are the B operand of a non-transposed GEMM.
    var qkvWeight, qkvBias: FloatBuffer
    var attnProjWeight, attnProjBias: FloatBuffer
    var ln2Gamma, ln2Beta: FloatBuffer
    var fcWeight, fcBias: FloatBuffer
    var mlpProjWeight, mlpProjBias: FloatBuffer
  }

  let tokenEmbedding: FloatBuffer  // [vocab, d]; also the output projection (tied)
  let positionEmbedding: FloatBuffer  // [positions, d]
  let layers: [Layer]
  let finalGamma, finalBeta: FloatBuffer

  init(config: GPT2Config, tokenEmbedding: FloatBuffer, positionEmbedding: FloatBuffer, layers: [Layer],
       finalGamma: FloatBuffer, finalBeta: FloatBuffer) {
    self.config = config
    self.tokenEmbedding = tokenEmbedding
    self.positionEmbedding = positionEmbedding
    self.layers = layers
    self.finalGamma = finalGamma
    self.finalBeta = finalBeta
    let perLayer = layers.first.map { l in
      [l.ln1Gamma, l.ln1Beta, l.qkvWeight, l.qkvBias, l.attnProjWeight, l.attnProjBias, l.ln2Gamma, l.ln2Beta,
       l.fcWeight, l.fcBias, l.mlpProjWeight, l.mlpProjBias].reduce(0) { $0 + $1.count }
    } ?? 0
    let parameters = tokenEmbedding.count + positionEmbedding.count + perLayer * layers.count + finalGamma.count + finalBeta.count
    descriptor = ModelDescriptor(
      family: "gpt2", parameterCount: parameters, vocabSize: config.vocabSize, contextLength: config.nPositions, bound: .exact)
  }

  // MARK: - Loading

  /// Maps a Hugging Face state dict onto the model. Keys may be bare (`h.0.attn.c_attn.weight`, as the hub's
  /// model.safetensors stores them) or prefixed `transformer.` (GPT2LMHeadModel state dicts); `lm_head.weight`,
  /// when present, must equal `wte` (tied). The causal-mask buffers `attn.bias` / `attn.masked_bias` are ignored
  /// on purpose. Any other missing or unused tensor is an error naming it.
  public convenience init(config: GPT2Config, weights archive: TensorArchive, source: String) throws {
    try config.validate(source: source)
    let prefix = archive.tensors.keys.contains { $0.hasPrefix("transformer.") } ? "transformer." : ""
    var map = try WeightMap(model: "gpt2 (\(source))", archive: archive)
    let d = config.nEmbd, inner = config.innerSize
    func take(_ key: String, _ shape: [Int]) throws -> FloatBuffer { FloatBuffer(try map.take(prefix + key, shape: shape)) }
    let wte = try take("wte.weight", [config.vocabSize, d])
    let wpe = try take("wpe.weight", [config.nPositions, d])
    var layers: [Layer] = []
    for i in 0..<config.nLayer {
      let p = "h.\(i)."
      layers.append(Layer(
        ln1Gamma: try take(p + "ln_1.weight", [d]), ln1Beta: try take(p + "ln_1.bias", [d]),
        qkvWeight: try take(p + "attn.c_attn.weight", [d, 3 * d]), qkvBias: try take(p + "attn.c_attn.bias", [3 * d]),
        attnProjWeight: try take(p + "attn.c_proj.weight", [d, d]), attnProjBias: try take(p + "attn.c_proj.bias", [d]),
        ln2Gamma: try take(p + "ln_2.weight", [d]), ln2Beta: try take(p + "ln_2.bias", [d]),
        fcWeight: try take(p + "mlp.c_fc.weight", [d, inner]), fcBias: try take(p + "mlp.c_fc.bias", [inner]),
        mlpProjWeight: try take(p + "mlp.c_proj.weight", [inner, d]), mlpProjBias: try take(p + "mlp.c_proj.bias", [d])))
    }
    let lnfG = try take("ln_f.weight", [d]), lnfB = try take("ln_f.bias", [d])
    if map.contains("lm_head.weight") {
      let head = try map.take("lm_head.weight", shape: [config.vocabSize, d])
      guard head == wte.array else {
        throw ModelError.unsupportedConfig(path: source, reason: "lm_head.weight differs from wte.weight, but GPT-2's output is tied")
      }
    }
    map.ignore { key in
      let k = key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : key
      return k.hasPrefix("h.") && (k.hasSuffix(".attn.bias") || k.hasSuffix(".attn.masked_bias"))
    }
    try map.finish()
    self.init(config: config, tokenEmbedding: wte, positionEmbedding: wpe, layers: layers, finalGamma: lnfG, finalBeta: lnfB)
  }

  /// A GPT-2-small-shaped model (768 × 12 layers, 12 heads, vocab 50257) with random weights, for benchmarks.
  public static func randomGPT2Small(seed: UInt64) -> GPT2Model {
    random(config: GPT2Config(nEmbd: 768, nLayer: 12, nHead: 12, nPositions: 1024, vocabSize: 50257), seed: seed)
  }

  /// Random weights (uniform, scaled like GPT-2's init) for any shape.
  public static func random(config: GPT2Config, seed: UInt64) -> GPT2Model {
    var weights = UniformWeights(seed: seed)
    func buffer(_ n: Int, scale: Float, offset: Float = 0) -> FloatBuffer { weights.buffer(n, scale: scale, offset: offset) }
    let d = config.nEmbd, inner = config.innerSize
    let layers = (0..<config.nLayer).map { _ in
      Layer(
        ln1Gamma: buffer(d, scale: 0.1, offset: 1), ln1Beta: buffer(d, scale: 0.1),
        qkvWeight: buffer(d * 3 * d, scale: 0.035), qkvBias: buffer(3 * d, scale: 0.01),
        attnProjWeight: buffer(d * d, scale: 0.035), attnProjBias: buffer(d, scale: 0.01),
        ln2Gamma: buffer(d, scale: 0.1, offset: 1), ln2Beta: buffer(d, scale: 0.1),
        fcWeight: buffer(d * inner, scale: 0.035), fcBias: buffer(inner, scale: 0.01),
        mlpProjWeight: buffer(inner * d, scale: 0.035), mlpProjBias: buffer(d, scale: 0.01))
    }
    return GPT2Model(
      config: config, tokenEmbedding: buffer(config.vocabSize * d, scale: 0.035),
      positionEmbedding: buffer(config.nPositions * d, scale: 0.035), layers: layers,
      finalGamma: buffer(d, scale: 0.1, offset: 1), finalBeta: buffer(d, scale: 0.1))
  }

  // MARK: - Forward

  /// Rows of queries handled per attention tile: each tile only multiplies against the keys up to its last row,
  /// so the causal mask halves the attention FLOPs instead of computing and discarding the upper triangle.
  static let attentionTile = 256

  /// Final hidden states after `ln_f`, [blocks·T, d], for equal-length blocks.
  func hiddenStates(_ blocks: [[Int32]]) throws -> (FloatBuffer, rows: Int) {
    let d = config.nEmbd, inner = config.innerSize, dh = config.headSize
    let t = blocks.first?.count ?? 0
    guard t > 0, t <= config.nPositions else {
      throw ModelError.badInput("block length \(t) is outside 1...\(config.nPositions)")
    }
    guard blocks.allSatisfy({ $0.count == t }) else { throw ModelError.badInput("blocks in one call must have equal length") }
    let rows = blocks.count * t
    let x = FloatBuffer(count: rows * d)  // residual stream
    let normed = FloatBuffer(count: rows * d)
    let qkv = FloatBuffer(count: rows * 3 * d)
    let attended = FloatBuffer(count: rows * d)
    let hidden = FloatBuffer(count: rows * inner)
    let scores = (0..<Parallel.threads).map { _ in FloatBuffer(count: Swift.min(Self.attentionTile, t) * t) }

    // h = wte[ids] + wpe[0..<T]
    for (b, block) in blocks.enumerated() {
      for (pos, id) in block.enumerated() {
        guard id >= 0, Int(id) < config.vocabSize else {
          throw ModelError.badInput("token id \(id) is outside the vocabulary (0..<\(config.vocabSize))")
        }
        let dst = x.pointer + (b * t + pos) * d
        let e = tokenEmbedding.pointer + Int(id) * d, p = positionEmbedding.pointer + pos * d
        Kernels.addRow(e, p, out: dst, count: d)
      }
    }

    let eps = Float(config.layerNormEpsilon)
    let scale = 1 / Float(dh).squareRoot()
    for layer in layers {
      // Attention sub-block: x += c_proj(softmax(QKᵀ/√dh + causal) V), on ln_1(x).
      Kernels.layerNorm(x.pointer, rows: rows, cols: d, gamma: layer.ln1Gamma.pointer, beta: layer.ln1Beta.pointer, eps: eps, out: normed.pointer)
      BLAS.gemm(m: rows, n: 3 * d, k: d, a: normed.pointer, lda: d, b: layer.qkvWeight.pointer, ldb: 3 * d, c: qkv.pointer, ldc: 3 * d)
      Kernels.addBias(qkv.pointer, rows: rows, cols: 3 * d, bias: layer.qkvBias.pointer)
      FusedQKVAttention.run(
        qkv: qkv.pointer, out: attended.pointer, blocks: blocks.count, length: t, width: d, heads: config.nHead,
        scale: scale, causal: true, scratch: scores)
      BLAS.gemm(m: rows, n: d, k: d, a: attended.pointer, lda: d, b: layer.attnProjWeight.pointer, ldb: d, c: normed.pointer, ldc: d)
      Kernels.addBias(normed.pointer, rows: rows, cols: d, bias: layer.attnProjBias.pointer)
      Kernels.add(normed.pointer, into: x.pointer, count: rows * d)

      // MLP sub-block: x += c_proj(gelu_new(c_fc(ln_2(x)))).
      Kernels.layerNorm(x.pointer, rows: rows, cols: d, gamma: layer.ln2Gamma.pointer, beta: layer.ln2Beta.pointer, eps: eps, out: normed.pointer)
      BLAS.gemm(m: rows, n: inner, k: d, a: normed.pointer, lda: d, b: layer.fcWeight.pointer, ldb: inner, c: hidden.pointer, ldc: inner)
      Kernels.addBias(hidden.pointer, rows: rows, cols: inner, bias: layer.fcBias.pointer)
      Kernels.geluTanh(hidden.pointer, count: rows * inner)
      BLAS.gemm(m: rows, n: d, k: inner, a: hidden.pointer, lda: inner, b: layer.mlpProjWeight.pointer, ldb: d, c: normed.pointer, ldc: d)
      Kernels.addBias(normed.pointer, rows: rows, cols: d, bias: layer.mlpProjBias.pointer)
      Kernels.add(normed.pointer, into: x.pointer, count: rows * d)
    }
    Kernels.layerNorm(x.pointer, rows: rows, cols: d, gamma: finalGamma.pointer, beta: finalBeta.pointer, eps: eps, out: x.pointer)
    return (x, rows)
  }

  /// Full logits [T, vocab] of one sequence (parity tests and generation; scoring never materialises them).
  public func logits(tokens: [Int32]) throws -> [Float] {
    let (h, rows) = try hiddenStates([tokens])
    var out = [Float](repeating: 0, count: rows * config.vocabSize)
    out.withUnsafeMutableBufferPointer { o in
      BLAS.gemm(transB: true, m: rows, n: config.vocabSize, k: config.nEmbd, a: h.pointer, lda: config.nEmbd,
                b: tokenEmbedding.pointer, ldb: config.nEmbd, c: o.baseAddress!, ldc: config.vocabSize)
    }
    return out
  }

  /// Teacher-forced NLL of tokens[1...] given the prefix, per block: 1023 values for a 1024-token block.
  public func score(blocks: [[Int32]]) throws -> [BlockScore] {
    guard !blocks.isEmpty else { return [] }
    let (h, _) = try hiddenStates(blocks)
    let t = blocks[0].count
    return blocks.enumerated().map { b, block in
      let nll = TiedOutputHead.nextTokenNLL(
        hidden: h.pointer + b * t * config.nEmbd, tokens: block, width: config.nEmbd,
        embedding: tokenEmbedding.pointer, vocabSize: config.vocabSize)
      return BlockScore(tokenNLL: nll)
    }
  }

  /// Multiply-adds ×2 actually performed by `score` for one block of `t` tokens (causal tiles, no wasted logits row).
  public func flops(blockLength t: Int) -> Double {
    let d = Double(config.nEmbd), inner = Double(config.innerSize), T = Double(t)
    let projections = 2 * T * d * (3 * d + d + 2 * inner)
    var attention = 0.0
    let tile = Swift.min(Self.attentionTile, t)
    for r0 in stride(from: 0, to: t, by: tile) {
      let r = Double(Swift.min(tile, t - r0)), keys = Double(r0) + r
      attention += 2 * 2 * r * keys * Double(config.headSize) * Double(config.nHead)
    }
    let head = 2 * (T - 1) * d * Double(config.vocabSize)
    return Double(config.nLayer) * (projections + attention) + head
  }
}
