import Foundation
import LTMCheckpoint
import LTMTensor

/// A Latent Thought Model (Kong et al., ICML 2025) as the authors' `model.py` (commit 498e39e) computes it, with
/// the fast-loop posterior inference of `optimizer.py`, in fp32 on the CPU.
///
/// Decoder (`LTMDecoder.swift`): token embedding; per layer, pre-RMSNorm sliding-window causal self-attention,
/// cross-attention from the tokens to this layer's slice of z, SwiGLU; final RMSNorm; output tied to the embedding.
/// Gradients to z (`LTMBackward.swift`) and the AdamW fast loop (`LTMPosterior.swift`) are hand-written: no weight
/// gradient is ever formed.
///
/// Entry points for the harness:
/// - loading: `ModelRegistry.load(path:)` (a `.pt` file, or a directory with `config.json` model_type "ltm"),
///   `LTMModel.load(checkpoint:)`, `LTMModel.load(directory:)`;
/// - options: `options(steps:learningRate:initialization:seed:freshSamples:)` (checkpoint `num_steps`/`fast_lr`
///   unless overridden);
/// - the `ltm` protocol: `evaluate(blocks:blockIndices:options:)` → per block `LTMBlockPosterior` (the paper's bound
///   `score`/`ppl` with the fit's ε, the honest `fresh` bound, the NELBO trajectory; `summary` for JSON); a steps sweep is one call per T;
/// - `score(blocks:)` (the `BlockScoringModel` conformance): the paper's bound with `scoringOptions`, per-token CE
///   at the final z plus the KL as `extraNats`, so exp(Σ/n) is the paper's per-block PPL;
/// - `benchmarkFastLoop(layers:…)` for `ltm-bench bench`; `fastLoopBytesPerBlock(blockLength:)` to size batches.
/// Lower level (parity tests, tools): `logits(inputs:z:)`, `tokenNLL(blocks:z:)`, `nelboGradient(blocks:at:)`,
/// `fitPosterior(blocks:starts:steps:learningRate:freshNoise:)`.
public final class LTMModel: BlockScoringModel {
  public let config: LTMConfig
  public let descriptor: ModelDescriptor
  /// Fast-loop settings used by `score(blocks:)`: initially the checkpoint's `num_steps` and `fast_lr` with the
  /// official init, seed 0 and 8 fresh-ε samples; nil when the checkpoint's `config` lacks either (then set it, e.g.
  /// from `options(steps:learningRate:…)`, before scoring).
  public var scoringOptions: LTMScoringOptions?

  /// GPT-2's `<|endoftext|>` and the `<|beginoftext|>` token the authors added as id 50257 (vocabulary 50258).
  /// The zero-shot protocol uses EOS only.
  public static let endOfTextID: Int32 = 50256
  public static let beginOfTextID: Int32 = 50257

  struct Layer {
    var attentionNorm, crossNorm, ffnNorm: FloatBuffer  // [d]
    /// Self-attention wq; wk; wv stacked as one nn.Linear-layout [3d, d] matrix.
    var qkv: FloatBuffer
    var wo: FloatBuffer  // [d, d]
    var crossQ: FloatBuffer  // [d, d]
    /// Cross-attention wk; wv stacked [2d, d].
    var crossKV: FloatBuffer
    var crossO: FloatBuffer  // [d, d]
    /// gate_proj (w1); up_proj (w3) stacked [2F, d].
    var gateUp: FloatBuffer
    var down: FloatBuffer  // down_proj (w2) [d, F]
  }

  let embedding: FloatBuffer  // [vocab, d]; also the output projection (tied)
  let layers: [Layer]
  let finalNorm: FloatBuffer
  let rope: RoPETable

  var args: LTMModelArgs { config.modelArgs }

  init(config: LTMConfig, embedding: FloatBuffer, layers: [Layer], finalNorm: FloatBuffer) {
    self.config = config
    self.embedding = embedding
    self.layers = layers
    self.finalNorm = finalNorm
    rope = RoPETable(headDim: config.modelArgs.headDim, positions: config.modelArgs.maxSeqLen)
    descriptor = ModelDescriptor(
      family: "ltm", parameterCount: config.modelArgs.parameterCount, vocabSize: config.modelArgs.vocabSize,
      contextLength: config.modelArgs.maxSeqLen + 1, bound: .upper)
    if let t = config.config.numSteps, let lr = config.config.fastLR {
      scoringOptions = LTMScoringOptions(steps: t, learningRate: lr)
    }
  }

  /// Fast-loop options for the harness: `steps` and `learningRate` override the checkpoint's `num_steps` and
  /// `fast_lr` (`--inference-steps`, `--fast-lr`); with neither an override nor a checkpoint value it is an error.
  public func options(
    steps: Int? = nil, learningRate: Double? = nil, initialization: LTMPosteriorInit = .official, seed: UInt64 = 0,
    freshSamples: Int = 8
  ) throws -> LTMScoringOptions {
    guard let t = steps ?? config.config.numSteps else {
      throw ModelError.badInput("the LTM checkpoint's config has no num_steps: give the number of inference steps")
    }
    guard let lr = learningRate ?? config.config.fastLR else {
      throw ModelError.badInput("the LTM checkpoint's config has no fast_lr: give the fast-loop learning rate")
    }
    let o = LTMScoringOptions(steps: t, learningRate: lr, initialization: initialization, seed: seed, freshSamples: freshSamples)
    try o.validate()
    return o
  }

  /// Approximate memory a fast loop needs per block of `blockLength` tokens (saved activations of every layer plus
  /// the shared scratch), for choosing how many blocks to batch. LTM-S at 1024 tokens: about 150 MB
  /// (plus one shared 128-row logits chunk per batch).
  public func fastLoopBytesPerBlock(blockLength: Int) -> Int {
    let a = args, s = blockLength - 1, d = a.dim, f = a.ffnHiddenDim, h = a.nHeads, m = a.latentsPerLayer
    let w = LTMAttention.Window(length: s, window: a.windowSize, headDim: a.headDim)
    let perLayer = s * (7 * d + 2 * f + 3) + h * w.probsPerHead + h * s * m + 2 * m * d
    let shared = s * (9 * d + 4 * f + 2)
    return 4 * (a.nLayers * perLayer + shared + d * s)
  }

  // MARK: - Loading

  /// Loads the authors' `torch.save` checkpoint (`ckpt_*.pt`): `model` (state dict), `model_args`, `config`.
  public static func load(checkpoint url: URL) throws -> LTMModel {
    let root = try TorchCheckpoint.load(url)
    let config = try LTMConfig.fromCheckpoint(root, source: url.path)
    guard let stateDict = root["model"] else {
      throw ModelError.unsupportedConfig(path: url.path, reason: "the checkpoint has no \"model\" state dict")
    }
    return try LTMModel(config: config, weights: try stateDict.tensorArchive(file: url), source: url.path)
  }

  /// Loads a converted checkpoint: a directory with `config.json` (`{"model_type": "ltm", "model_args": …,
  /// "config": …}`) and the state dict under the authors' key names in `model.safetensors` (or shards).
  public static func load(directory: URL) throws -> (LTMModel, [URL]) {
    let configURL = directory.appendingPathComponent("config.json")
    guard let data = FileManager.default.contents(atPath: configURL.path) else {
      throw CheckpointError.unreadable(path: configURL.path, reason: "no such file")
    }
    let config = try LTMConfig.decode(data, path: configURL.path)
    let archive = try CheckpointLoader.load(directory)
    return (try LTMModel(config: config, weights: archive, source: directory.path), archive.files)
  }

  /// Maps the authors' state dict onto the model, explicitly:
  /// - a leading `_orig_mod.` (a `torch.compile`d whole model) is stripped from every key;
  /// - attention weights are `layers.{i}.{attention,cross_attention}._orig_mod.{wq,wk,wv,wo}.weight` (the
  ///   `torch.compile` wrapper of use_liger=True) or the same without `_orig_mod.`;
  /// - the MLP is `feed_forward.{gate_proj,up_proj,down_proj}` (Liger) or `feed_forward.{w1,w3,w2}` (plain), with
  ///   gate ↔ w1, up ↔ w3, down ↔ w2;
  /// - `tok_embeddings.weight` is required; `output.weight` (the tied copy) must equal it when present;
  /// - the old non-flash causal-mask buffers `…attention[._orig_mod].mask` are ignored on purpose.
  /// Any other missing or unused tensor is an error naming it.
  public convenience init(config: LTMConfig, weights archive: TensorArchive, source: String) throws {
    try config.validate(source: source)
    let a = config.modelArgs
    var tensors: [String: RawTensor] = [:]
    for (key, t) in archive.tensors {
      let k = key.hasPrefix("_orig_mod.") ? String(key.dropFirst("_orig_mod.".count)) : key
      guard tensors[k] == nil else {
        throw ModelError.unsupportedConfig(path: source, reason: "tensor \(k) appears both with and without the _orig_mod. prefix")
      }
      tensors[k] = t
    }
    var map = try WeightMap(model: "ltm (\(source))", archive: TensorArchive(tensors: tensors, files: archive.files))
    let d = a.dim, f = a.ffnHiddenDim, v = a.vocabSize

    /// The first of `names` present (each a full key), else the first is recorded as missing.
    func take(_ names: [String], _ shape: [Int]) throws -> [Float] {
      let key = names.first { map.contains($0) } ?? names[0]
      return try map.take(key, shape: shape)
    }
    func attention(_ p: String, _ w: String) throws -> [Float] {
      try take(["\(p)._orig_mod.\(w).weight", "\(p).\(w).weight"], [d, d])
    }
    let embedding = try map.take("tok_embeddings.weight", shape: [v, d])
    if map.contains("output.weight") {
      let head = try map.take("output.weight", shape: [v, d])
      guard head == embedding else {
        throw ModelError.unsupportedConfig(path: source, reason: "output.weight differs from tok_embeddings.weight, but the LTM output is tied")
      }
    }
    var layers: [Layer] = []
    for i in 0..<a.nLayers {
      let p = "layers.\(i)."
      let liger = !map.contains(p + "feed_forward.w1.weight")
      let gate = try take([p + (liger ? "feed_forward.gate_proj.weight" : "feed_forward.w1.weight")], [f, d])
      let up = try take([p + (liger ? "feed_forward.up_proj.weight" : "feed_forward.w3.weight")], [f, d])
      let down = try take([p + (liger ? "feed_forward.down_proj.weight" : "feed_forward.w2.weight")], [d, f])
      layers.append(Layer(
        attentionNorm: FloatBuffer(try take([p + "attention_norm.weight"], [d])),
        crossNorm: FloatBuffer(try take([p + "cross_attention_norm.weight"], [d])),
        ffnNorm: FloatBuffer(try take([p + "ffn_norm.weight"], [d])),
        qkv: FloatBuffer(try attention(p + "attention", "wq") + attention(p + "attention", "wk") + attention(p + "attention", "wv")),
        wo: FloatBuffer(try attention(p + "attention", "wo")),
        crossQ: FloatBuffer(try attention(p + "cross_attention", "wq")),
        crossKV: FloatBuffer(try attention(p + "cross_attention", "wk") + attention(p + "cross_attention", "wv")),
        crossO: FloatBuffer(try attention(p + "cross_attention", "wo")),
        gateUp: FloatBuffer(gate + up), down: FloatBuffer(down)))
    }
    let norm = try map.take("norm.weight", shape: [d])
    map.ignore { key in
      key.hasPrefix("layers.")
        && (key.hasSuffix(".attention.mask") || key.hasSuffix(".attention._orig_mod.mask")
          || key.hasSuffix(".cross_attention.mask") || key.hasSuffix(".cross_attention._orig_mod.mask"))
    }
    try map.finish()
    self.init(config: config, embedding: FloatBuffer(embedding), layers: layers, finalNorm: FloatBuffer(norm))
  }

  /// Random weights (uniform, scaled like the authors' N(0, 0.02) init; norms near 1) for benchmarks and tests.
  public static func random(config: LTMConfig, seed: UInt64, scale: Float = 0.035) -> LTMModel {
    var weights = UniformWeights(seed: seed)
    func buffer(_ n: Int, scale: Float, offset: Float = 0) -> FloatBuffer { weights.buffer(n, scale: scale, offset: offset) }
    let a = config.modelArgs, d = a.dim, f = a.ffnHiddenDim
    let layers = (0..<a.nLayers).map { _ in
      Layer(
        attentionNorm: buffer(d, scale: 0.1, offset: 1), crossNorm: buffer(d, scale: 0.1, offset: 1),
        ffnNorm: buffer(d, scale: 0.1, offset: 1), qkv: buffer(3 * d * d, scale: scale), wo: buffer(d * d, scale: scale),
        crossQ: buffer(d * d, scale: scale), crossKV: buffer(2 * d * d, scale: scale), crossO: buffer(d * d, scale: scale),
        gateUp: buffer(2 * f * d, scale: scale), down: buffer(d * f, scale: scale))
    }
    return LTMModel(
      config: config, embedding: buffer(a.vocabSize * d, scale: scale), layers: layers,
      finalNorm: buffer(d, scale: 0.1, offset: 1))
  }

  // MARK: - Input checks

  /// Checks a batch of blocks and returns the common input length S = block length − 1 (inputs are
  /// tokens[0..<S], targets tokens[1...S]).
  func inputLength(_ blocks: [[Int32]]) throws -> Int {
    guard let n = blocks.first?.count else { throw ModelError.badInput("no blocks") }
    guard blocks.allSatisfy({ $0.count == n }) else { throw ModelError.badInput("blocks in one call must have equal length") }
    guard n >= 2, n - 1 <= args.maxSeqLen else {
      throw ModelError.badInput("block length \(n) is outside 2...\(args.maxSeqLen + 1) (max_seq_len \(args.maxSeqLen) inputs + 1)")
    }
    for block in blocks {
      for id in block where id < 0 || Int(id) >= args.vocabSize {
        throw ModelError.badInput("token id \(id) is outside the vocabulary (0..<\(args.vocabSize))")
      }
    }
    return n - 1
  }
}
