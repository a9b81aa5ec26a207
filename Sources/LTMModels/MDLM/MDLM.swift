import Foundation
import LTMCheckpoint
import LTMTensor

/// `config.json` of a Hugging Face MDLM checkpoint (`kuleshov-group/mdlm-owt`, `model_type: "mdlm"`).
public struct MDLMConfig: Codable, Sendable, Equatable {
  public var hiddenDim: Int
  public var condDim: Int
  public var nBlocks: Int
  public var nHeads: Int
  /// Including the mask token, which is the last id (50258 = GPT-2's 50257 + MASK for MDLM-OWT).
  public var vocabSize: Int
  public var modelLength: Int
  public var timeConditioning: Bool

  enum CodingKeys: String, CodingKey {
    case hiddenDim = "hidden_dim", condDim = "cond_dim", nBlocks = "n_blocks", nHeads = "n_heads"
    case vocabSize = "vocab_size", modelLength = "model_length", timeConditioning = "time_conditioning"
  }

  public init(hiddenDim: Int, condDim: Int, nBlocks: Int, nHeads: Int, vocabSize: Int, modelLength: Int, timeConditioning: Bool = false) {
    self.hiddenDim = hiddenDim
    self.condDim = condDim
    self.nBlocks = nBlocks
    self.nHeads = nHeads
    self.vocabSize = vocabSize
    self.modelLength = modelLength
    self.timeConditioning = timeConditioning
  }

  public var headSize: Int { hiddenDim / nHeads }
  /// `mask_index = vocab_size − 1` (the MDLM code appends MASK to the tokenizer's vocabulary).
  public var maskIndex: Int32 { Int32(vocabSize - 1) }
  /// The token every document starts with in training, for the GPT-2 vocabulary + MASK (50258): MDLM's `wrap`
  /// pipeline writes `<|endoftext|>` (50256, GPT-2's BOS) before each document. nil for other vocabularies, whose
  /// BOS the config does not name.
  public var documentBOS: Int32? { vocabSize == 50258 ? 50256 : nil }
  /// MLP ratio 4 (`DDiTBlock(mlp_ratio=4)`).
  public var innerSize: Int { 4 * hiddenDim }
  /// `TimestepEmbedder.frequency_embedding_size`.
  public static let frequencyEmbeddingSize = 256

  public func validate(source: String) throws {
    func bad(_ reason: String) -> ModelError { .unsupportedConfig(path: source, reason: reason) }
    guard hiddenDim > 0, condDim > 0, nBlocks > 0, nHeads > 0, vocabSize > 1, modelLength > 0 else { throw bad("sizes must be positive") }
    guard hiddenDim % nHeads == 0 else { throw bad("hidden_dim \(hiddenDim) is not divisible by n_heads \(nHeads)") }
    guard headSize % 2 == 0 else { throw bad("head size \(headSize) must be even for rotary embeddings") }
  }
}

/// MDLM's DiT backbone (`models/dit.py`, Sahoo et al. 2024) with the SUBS parameterization: adaLN-conditioned
/// pre-LayerNorm blocks, rotate-half rotary embeddings, **bidirectional** softmax attention, GELU(tanh) MLP, and an
/// untied output head with bias. fp32; every projection is a `cblas_sgemm` over whole batches of blocks.
///
/// It scores an upper bound (the continuous-time NELBO, `MDLM+Bound.swift`), so `descriptor.bound` is `.upper`.
public final class MDLMModel: BlockScoringModel {
  public let config: MDLMConfig
  public let descriptor: ModelDescriptor

  struct Layer {
    var norm1, norm2: FloatBuffer  // LayerNorm weight, no bias
    /// nn.Linear [out, in] layouts: y = x·Wᵀ (+ b), the B operand of a transposed GEMM.
    var qkvWeight: FloatBuffer  // [3d, d], output laid out (3, heads, dh)
    var attnOutWeight: FloatBuffer  // [d, d]
    var fcWeight, fcBias: FloatBuffer  // [4d, d], [4d]
    var projWeight, projBias: FloatBuffer  // [d, 4d], [d]
    var adaLNWeight, adaLNBias: FloatBuffer  // [6d, cond], [6d]
  }

  let embedding: FloatBuffer  // [vocab, d]
  let sigmaWeight0, sigmaBias0, sigmaWeight2, sigmaBias2: FloatBuffer
  let layers: [Layer]
  let finalNorm: FloatBuffer
  let finalAdaLNWeight, finalAdaLNBias: FloatBuffer  // [2d, cond]
  let headWeight, headBias: FloatBuffer  // [vocab, d], [vocab]
  /// Which weights were loaded (EMA or raw for a Lightning checkpoint), for provenance.
  public internal(set) var checkpointWeights: MDLMCheckpointWeights = .huggingFace
  /// c at σ = 0, computed once: MDLM-OWT is not time-conditioned, so every forward uses it.
  let zeroSigmaConditioning: [Float]

  init(config: MDLMConfig, embedding: FloatBuffer, sigma: [FloatBuffer], layers: [Layer], finalNorm: FloatBuffer,
       finalAdaLN: (FloatBuffer, FloatBuffer), head: (FloatBuffer, FloatBuffer)) {
    self.config = config
    self.embedding = embedding
    (sigmaWeight0, sigmaBias0, sigmaWeight2, sigmaBias2) = (sigma[0], sigma[1], sigma[2], sigma[3])
    self.layers = layers
    self.finalNorm = finalNorm
    (finalAdaLNWeight, finalAdaLNBias) = finalAdaLN
    (headWeight, headBias) = head
    zeroSigmaConditioning = Self.conditioning(sigma: 0, config: config, w0: sigma[0], b0: sigma[1], w2: sigma[2], b2: sigma[3])
    let perLayer = layers.first.map { l in
      [l.norm1, l.norm2, l.qkvWeight, l.attnOutWeight, l.fcWeight, l.fcBias, l.projWeight, l.projBias, l.adaLNWeight, l.adaLNBias]
        .reduce(0) { $0 + $1.count }
    } ?? 0
    let parameters = embedding.count + sigma.reduce(0) { $0 + $1.count } + perLayer * layers.count + finalNorm.count
      + finalAdaLNWeight.count + finalAdaLNBias.count + headWeight.count + headBias.count
    descriptor = ModelDescriptor(
      family: "mdlm", parameterCount: parameters, vocabSize: config.vocabSize, contextLength: config.modelLength, bound: .upper)
  }

  // MARK: - Loading

  /// Maps the Hugging Face state dict (`backbone.*`, nn.Linear weights [out, in]) onto the model. A Lightning state
  /// dict whose keys carry a further prefix (`model.backbone.*`) is accepted too. `rotary_emb.inv_freq` is not
  /// loaded but recomputed (10000^(−2k/dh)) and checked against the file, so a checkpoint with another rotary base
  /// fails instead of scoring a different model. Any other missing or unused tensor is an error naming it.
  /// `family` names the checkpoint in errors: the DDiT is also SEDD's network.
  public convenience init(config: MDLMConfig, weights archive: TensorArchive, source: String, family: String = "mdlm") throws {
    try config.validate(source: source)
    let prefix = archive.tensors.keys.first { $0.hasSuffix("vocab_embed.embedding") }.map { String($0.dropLast("vocab_embed.embedding".count)) } ?? "backbone."
    var map = try WeightMap(model: "\(family) (\(source))", archive: archive)
    let d = config.hiddenDim, cond = config.condDim, inner = config.innerSize, v = config.vocabSize
    func take(_ key: String, _ shape: [Int]) throws -> FloatBuffer { FloatBuffer(try map.take(prefix + key, shape: shape)) }
    let embedding = try take("vocab_embed.embedding", [v, d])
    let sigma = [
      try take("sigma_map.mlp.0.weight", [cond, MDLMConfig.frequencyEmbeddingSize]), try take("sigma_map.mlp.0.bias", [cond]),
      try take("sigma_map.mlp.2.weight", [cond, cond]), try take("sigma_map.mlp.2.bias", [cond]),
    ]
    var layers: [Layer] = []
    for i in 0..<config.nBlocks {
      let p = "blocks.\(i)."
      layers.append(Layer(
        norm1: try take(p + "norm1.weight", [d]), norm2: try take(p + "norm2.weight", [d]),
        qkvWeight: try take(p + "attn_qkv.weight", [3 * d, d]), attnOutWeight: try take(p + "attn_out.weight", [d, d]),
        fcWeight: try take(p + "mlp.0.weight", [inner, d]), fcBias: try take(p + "mlp.0.bias", [inner]),
        projWeight: try take(p + "mlp.2.weight", [d, inner]), projBias: try take(p + "mlp.2.bias", [d]),
        adaLNWeight: try take(p + "adaLN_modulation.weight", [6 * d, cond]), adaLNBias: try take(p + "adaLN_modulation.bias", [6 * d])))
    }
    let finalNorm = try take("output_layer.norm_final.weight", [d])
    let finalAdaLN = (try take("output_layer.adaLN_modulation.weight", [2 * d, cond]), try take("output_layer.adaLN_modulation.bias", [2 * d]))
    let head = (try take("output_layer.linear.weight", [v, d]), try take("output_layer.linear.bias", [v]))
    let rotaryKey = prefix + "rotary_emb.inv_freq"
    if map.contains(rotaryKey) {
      let stored = try map.take(rotaryKey, shape: [config.headSize / 2])
      let expected = Self.inverseFrequencies(headSize: config.headSize)
      for (a, b) in zip(stored, expected) where abs(a - b) > 1e-6 * max(1, abs(b)) {
        throw ModelError.unsupportedConfig(path: source, reason: "rotary_emb.inv_freq differs from 10000^(-2k/\(config.headSize)) (only base 10000 is implemented)")
      }
    }
    try map.finish()
    self.init(config: config, embedding: embedding, sigma: sigma, layers: layers, finalNorm: finalNorm, finalAdaLN: finalAdaLN, head: head)
  }

  /// Reads an HF MDLM directory (`config.json` + `model.safetensors`).
  public static func load(directory: URL, configData: Data) throws -> (MDLMModel, [URL]) {
    let config = try ModelRegistry.decodeConfig(MDLMConfig.self, from: configData, path: directory.appendingPathComponent("config.json").path)
    let (archive, files) = try WeightFiles.load(directory: directory)
    return (try MDLMModel(config: config, weights: archive, source: directory.path), files)
  }

  /// Random weights for benchmarks, at any shape (`owtSmall` for the MDLM-OWT shape).
  public static func random(config: MDLMConfig, seed: UInt64) -> MDLMModel {
    var weights = UniformWeights(seed: seed)
    func buffer(_ n: Int, scale: Float, offset: Float = 0) -> FloatBuffer { weights.buffer(n, scale: scale, offset: offset) }
    let d = config.hiddenDim, cond = config.condDim, inner = config.innerSize, v = config.vocabSize
    let layers = (0..<config.nBlocks).map { _ in
      Layer(
        norm1: buffer(d, scale: 0.1, offset: 1), norm2: buffer(d, scale: 0.1, offset: 1),
        qkvWeight: buffer(3 * d * d, scale: 0.035), attnOutWeight: buffer(d * d, scale: 0.035),
        fcWeight: buffer(inner * d, scale: 0.035), fcBias: buffer(inner, scale: 0.01),
        projWeight: buffer(d * inner, scale: 0.035), projBias: buffer(d, scale: 0.01),
        adaLNWeight: buffer(6 * d * cond, scale: 0.05), adaLNBias: buffer(6 * d, scale: 0.05))
    }
    let f = MDLMConfig.frequencyEmbeddingSize
    return MDLMModel(
      config: config, embedding: buffer(v * d, scale: 0.035),
      sigma: [buffer(cond * f, scale: 0.05), buffer(cond, scale: 0.05), buffer(cond * cond, scale: 0.05), buffer(cond, scale: 0.05)],
      layers: layers, finalNorm: buffer(d, scale: 0.1, offset: 1),
      finalAdaLN: (buffer(2 * d * cond, scale: 0.05), buffer(2 * d, scale: 0.05)),
      head: (buffer(v * d, scale: 0.035), buffer(v, scale: 0.01)))
  }

  /// The MDLM-OWT shape: 768 hidden, 12 blocks, 12 heads, cond 128, vocab 50258, length 1024.
  public static let owtSmallConfig = MDLMConfig(hiddenDim: 768, condDim: 128, nBlocks: 12, nHeads: 12, vocabSize: 50258, modelLength: 1024)

  // MARK: - Conditioning

  /// inv_freq_k = 10000^(−2k/dh), k = 0 … dh/2 − 1 (`Rotary.__init__`).
  static func inverseFrequencies(headSize: Int) -> [Float] {
    (0..<(headSize / 2)).map { k in Float(1 / pow(10000.0, Double(2 * k) / Double(headSize))) }
  }

  /// c = SiLU(W2 · SiLU(W0 · [cos(σ f_k), sin(σ f_k)] + b0) + b2), f_k = exp(−ln(10000)·k/128)
  /// (`TimestepEmbedder`, then `DIT.forward`'s `F.silu`).
  static func conditioning(sigma: Double, config: MDLMConfig, w0: FloatBuffer, b0: FloatBuffer, w2: FloatBuffer, b2: FloatBuffer) -> [Float] {
    let f = MDLMConfig.frequencyEmbeddingSize, half = f / 2, cond = config.condDim
    var features = [Float](repeating: 0, count: f)
    for k in 0..<half {
      let arg = Float(sigma) * Float(exp(-log(10000.0) * Double(k) / Double(half)))
      features[k] = cos(arg)
      features[half + k] = sin(arg)
    }
    func silu(_ x: Float) -> Float { x / (1 + exp(-x)) }
    var hidden = [Float](repeating: 0, count: cond)
    for o in 0..<cond {
      var s = b0.pointer[o]
      for i in 0..<f { s += w0.pointer[o * f + i] * features[i] }
      hidden[o] = silu(s)
    }
    return (0..<cond).map { o in
      var s = b2.pointer[o]
      for i in 0..<cond { s += w2.pointer[o * cond + i] * hidden[i] }
      return silu(s)
    }
  }

  /// W·c + b for an adaLN projection W [n, cond].
  func modulation(_ w: FloatBuffer, _ b: FloatBuffer, rows n: Int, c: [Float]) -> [Float] {
    let cond = config.condDim
    return (0..<n).map { o in
      var s = b.pointer[o]
      for i in 0..<cond { s += w.pointer[o * cond + i] * c[i] }
      return s
    }
  }

  /// The conditioning vector for noise level σ; σ is ignored (zeroed, `_process_sigma`) unless time-conditioned.
  func conditioning(sigma: Double) -> [Float] {
    guard config.timeConditioning, sigma != 0 else { return zeroSigmaConditioning }
    return Self.conditioning(sigma: sigma, config: config, w0: sigmaWeight0, b0: sigmaBias0, w2: sigmaWeight2, b2: sigmaBias2)
  }

  // MARK: - Forward

  /// out = LayerNorm(x)·w·(1 + scale) + shift, rows of one block (`modulate_fused(norm(x), shift, scale)`).
  func normModulate(_ x: UnsafePointer<Float>, rows: Int, weight: FloatBuffer, shift: ArraySlice<Float>, scale: ArraySlice<Float>, out: UnsafeMutablePointer<Float>) {
    let d = config.hiddenDim
    Kernels.layerNorm(x, rows: rows, cols: d, gamma: weight.pointer, beta: nil, eps: 1e-5, out: out)
    let sh = Array(shift), sc = Array(scale).map { 1 + $0 }
    Kernels.modulate(out, rows: rows, cols: d, scale: sc, shift: sh)
  }

  /// Final hidden states after the adaLN-modulated `norm_final`, [blocks·T, d]. `sigmas[b]` is block b's noise
  /// level (used only when `time_conditioning`).
  func hiddenStates(_ blocks: [[Int32]], sigmas: [Double]) throws -> (FloatBuffer, rows: Int) {
    let d = config.hiddenDim, inner = config.innerSize, dh = config.headSize, heads = config.nHeads
    let t = blocks.first?.count ?? 0
    guard t > 0, t <= config.modelLength else { throw ModelError.badInput("block length \(t) is outside 1...\(config.modelLength)") }
    guard blocks.allSatisfy({ $0.count == t }) else { throw ModelError.badInput("blocks in one call must have equal length") }
    let rows = blocks.count * t
    let x = FloatBuffer(count: rows * d)
    let normed = FloatBuffer(count: rows * d)
    let qkv = FloatBuffer(count: rows * 3 * d)
    let attended = FloatBuffer(count: rows * d)
    let hidden = FloatBuffer(count: rows * inner)
    let scores = (0..<Parallel.threads).map { _ in FloatBuffer(count: Swift.min(GPT2Model.attentionTile, t) * t) }
    let conditions = blocks.indices.map { conditioning(sigma: sigmas[$0]) }

    // x = E[ids] (raw lookup, no scaling, no positions: rotary carries position).
    for (b, block) in blocks.enumerated() {
      for (pos, id) in block.enumerated() {
        guard id >= 0, Int(id) < config.vocabSize else {
          throw ModelError.badInput("token id \(id) is outside the vocabulary (0..<\(config.vocabSize))")
        }
        (x.pointer + (b * t + pos) * d).update(from: embedding.pointer + Int(id) * d, count: d)
      }
    }
    // Rotary tables θ_{p,k} = p·inv_freq_k.
    let invFreq = Self.inverseFrequencies(headSize: dh)
    let half = dh / 2
    var cosTable = [Float](repeating: 0, count: t * half), sinTable = cosTable
    for p in 0..<t {
      for k in 0..<half {
        let theta = Float(p) * invFreq[k]
        cosTable[p * half + k] = cos(theta)
        sinTable[p * half + k] = sin(theta)
      }
    }

    let scale = 1 / Float(dh).squareRoot()
    for layer in layers {
      // (shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp) = chunk6(adaLN(c)).
      let mods = conditions.map { modulation(layer.adaLNWeight, layer.adaLNBias, rows: 6 * d, c: $0) }
      // Attention: x = x + gate_msa ⊙ attn_out(Attn(modulate(norm1(x)))).
      for b in blocks.indices {
        normModulate(x.pointer + b * t * d, rows: t, weight: layer.norm1, shift: mods[b][0..<d], scale: mods[b][d..<(2 * d)], out: normed.pointer + b * t * d)
      }
      BLAS.gemm(transB: true, m: rows, n: 3 * d, k: d, a: normed.pointer, lda: d, b: layer.qkvWeight.pointer, ldb: d, c: qkv.pointer, ldc: 3 * d)
      cosTable.withUnsafeBufferPointer { cs in
        sinTable.withUnsafeBufferPointer { sn in
          RoPE.rotateHalf(
            qkv: qkv.pointer, rows: rows, length: t, width: d, heads: heads, headDim: dh, cos: cs.baseAddress!, sin: sn.baseAddress!)
        }
      }
      FusedQKVAttention.run(
        qkv: qkv.pointer, out: attended.pointer, blocks: blocks.count, length: t, width: config.hiddenDim, heads: heads,
        scale: scale, causal: false, scratch: scores)
      BLAS.gemm(transB: true, m: rows, n: d, k: d, a: attended.pointer, lda: d, b: layer.attnOutWeight.pointer, ldb: d, c: normed.pointer, ldc: d)
      gatedAdd(normed.pointer, into: x.pointer, blocks: blocks.count, length: t, gates: mods.map { Array($0[(2 * d)..<(3 * d)]) })

      // MLP: x = x + gate_mlp ⊙ mlp(modulate(norm2(x))), mlp = Linear → GELU(tanh) → Linear.
      for b in blocks.indices {
        normModulate(x.pointer + b * t * d, rows: t, weight: layer.norm2, shift: mods[b][(3 * d)..<(4 * d)], scale: mods[b][(4 * d)..<(5 * d)], out: normed.pointer + b * t * d)
      }
      BLAS.gemm(transB: true, m: rows, n: inner, k: d, a: normed.pointer, lda: d, b: layer.fcWeight.pointer, ldb: d, c: hidden.pointer, ldc: inner)
      Kernels.addBias(hidden.pointer, rows: rows, cols: inner, bias: layer.fcBias.pointer)
      Kernels.geluTanh(hidden.pointer, count: rows * inner)
      BLAS.gemm(transB: true, m: rows, n: d, k: inner, a: hidden.pointer, lda: inner, b: layer.projWeight.pointer, ldb: inner, c: normed.pointer, ldc: d)
      Kernels.addBias(normed.pointer, rows: rows, cols: d, bias: layer.projBias.pointer)
      gatedAdd(normed.pointer, into: x.pointer, blocks: blocks.count, length: t, gates: mods.map { Array($0[(5 * d)..<(6 * d)]) })
    }
    // Final layer: shift, scale = chunk2(adaLN(c)); modulate(norm_final(x)).
    for b in blocks.indices {
      let m = modulation(finalAdaLNWeight, finalAdaLNBias, rows: 2 * d, c: conditions[b])
      normModulate(x.pointer + b * t * d, rows: t, weight: finalNorm, shift: m[0..<d], scale: m[d..<(2 * d)], out: x.pointer + b * t * d)
    }
    return (x, rows)
  }

  /// x[b, p, :] += gate_b ⊙ y[b, p, :] (`bias_dropout_add_scale` at eval).
  func gatedAdd(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, blocks: Int, length t: Int, gates: [[Float]]) {
    let d = config.hiddenDim
    for b in 0..<blocks {
      Kernels.gatedAdd(y + b * t * d, gate: gates[b], into: x + b * t * d, rows: t, cols: d)
    }
  }

  // MARK: - SUBS

  /// Raw logits [T, vocab] of one (noised) sequence: what the HF `MDLM.forward` returns (no SUBS).
  public func logits(tokens: [Int32], sigma: Double = 0) throws -> [Float] {
    let (h, rows) = try hiddenStates([tokens], sigmas: [sigma])
    var out = [Float](repeating: 0, count: rows * config.vocabSize)
    out.withUnsafeMutableBufferPointer { o in
      BLAS.gemm(transB: true, m: rows, n: config.vocabSize, k: config.hiddenDim, a: h.pointer, lda: config.hiddenDim,
                b: headWeight.pointer, ldb: config.hiddenDim, c: o.baseAddress!, ldc: config.vocabSize)
      Kernels.addBias(o.baseAddress!, rows: rows, cols: config.vocabSize, bias: headBias.pointer)
    }
    return out
  }

  /// SUBS log-probabilities [T, vocab] of x0 given x_t (`_subs_parameterization`): (1) the mask logit is −∞ (zero
  /// probability of predicting MASK), (2) log-softmax, (3) at unmasked positions "carry over": log p = 0 at x_t and
  /// −∞ elsewhere. The reference writes −1e6 for −∞; here it is −∞ itself.
  public func subsLogProbs(xt: [Int32], sigma: Double = 0) throws -> [Float] {
    var out = try logits(tokens: xt, sigma: sigma)
    let v = config.vocabSize, mask = Int(config.maskIndex)
    out.withUnsafeMutableBufferPointer { o in
      for (p, token) in xt.enumerated() {
        let row = o.baseAddress! + p * v
        if token == config.maskIndex {
          row[mask] = -.infinity
          let m = VectorMath.max(row, count: mask)
          let lse = m + Float(log(VectorMath.sumExpShifted(row, shift: m, count: mask)))
          Kernels.subtractRow(lse, from: row, count: v)
        } else {
          row.update(repeating: -.infinity, count: v)
          row[Int(token)] = 0
        }
      }
    }
    return out
  }

  /// log p_θ(x0_i | x_t) under SUBS for every position of each block (`sigmas[b]`: block b's σ(t), read only by
  /// time-conditioned checkpoints): 0 where x_t is unmasked (carry-over), else the
  /// log-softmax of x0_i with the mask logit at −∞. Only masked rows go through the vocab-wide head, in tiles.
  public func logProbabilities(x0: [[Int32]], xt: [[Int32]], sigmas: [Double]) throws -> [[Float]] {
    guard !xt.isEmpty else { return [] }
    let (h, _) = try hiddenStates(xt, sigmas: sigmas)
    let t = xt[0].count, d = config.hiddenDim, v = config.vocabSize, mask = config.maskIndex
    var result = xt.map { [Float](repeating: 0, count: $0.count) }
    var masked: [(block: Int, pos: Int)] = []
    for b in xt.indices {
      guard x0[b].count == t else { throw ModelError.badInput("x0 and x_t must have the same length") }
      for p in 0..<t where xt[b][p] == mask {
        guard x0[b][p] != mask, x0[b][p] >= 0, Int(x0[b][p]) < v else {
          throw ModelError.badInput("clean token \(x0[b][p]) at position \(p) is the mask token or outside the vocabulary")
        }
        masked.append((b, p))
      }
    }
    var values = [Float](repeating: 0, count: masked.count)
    let targets = masked.map { Int(x0[$0.block][$0.pos]) }
    values.withUnsafeMutableBufferPointer { out in
      let outp = out.baseAddress
      // The mask id is the last column: log-softmax over the first v − 1 biased logits is the SUBS normalisation
      // (mask logit −∞).
      forEachHeadRow(count: masked.count, columns: Int(mask), minimumChunk: 8, hiddenRow: { h.pointer + (masked[$0].block * t + masked[$0].pos) * d }) { j, row in
        let lse = TiedOutputHead.logSumExp(row: row, count: Int(mask))
        outp![j] = Float(Double(row[targets[j]]) - lse)
      }
    }
    for (j, m) in masked.enumerated() { result[m.block][m.pos] = values[j] }
    return result
  }
}
