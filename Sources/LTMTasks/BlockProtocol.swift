/// Fixed-length token blocks, stored flat: block i is `tokens[i*blockLength ..< (i+1)*blockLength]`.
public struct TokenBlocks: Sendable, Equatable {
  public var blockLength: Int
  public var tokens: [Int32]
  public var count: Int { blockLength == 0 ? 0 : tokens.count / blockLength }

  public init(blockLength: Int, tokens: [Int32]) {
    self.blockLength = blockLength
    self.tokens = tokens
  }

  public func block(_ i: Int) -> ArraySlice<Int32> { tokens[(i * blockLength)..<((i + 1) * blockLength)] }
}

/// A named block layout: how tokenized examples become the blocks that are scored, and which aggregation is the
/// headline.
///
/// Published zero-shot perplexities differ by several percent between layouts on the same model (an EOS per
/// document or not, a BOS/EOS frame per block or not, remainders dropped per batch), so the layout is a value
/// with every choice spelled out and a name that is printed next to every number. A new preset (bd3lm: no
/// document EOS; sedd: plain blocks without batching) is one more `BlockProtocol(...)` in `presets`.
public struct BlockProtocol: Sendable, Equatable {
  /// Headline aggregations (LTMMetrics.PerplexityAggregation raw values).
  public static let tokenWeighted = "token_weighted"
  public static let blockMean = "block_mean"

  /// The GPT-2 `<|endoftext|>` id, which the reference code uses as both BOS and EOS.
  public static let gpt2EndOfText: Int32 = 50256

  public var name: String
  /// One line for reports and `--help`: what the layout is and where it comes from.
  public var summary: String
  /// Tokens per block, the frame included.
  public var blockLength: Int
  /// Append `eos` after every example before concatenating (both papers do; bd3lm's scripts do not).
  public var insertDocumentEOS: Bool
  /// Frame every block as `[bos] + content + [eos]` (MDLM's `_group_texts`); otherwise blocks are plain cuts.
  public var frameBlocks: Bool
  public var bos: Int32
  public var eos: Int32
  /// Examples per concatenation batch: each batch keeps only whole blocks and drops its remainder, as
  /// `datasets.map(batched=True)` with its default batch of 1000 rows does in one process. nil concatenates
  /// the whole split at once.
  public var batchSize: Int?
  /// `token_weighted` or `block_mean` (LTMMetrics.PerplexityAggregation raw values).
  public var headline: String
  /// Diffusion scorers: position 0 (the block's BOS) is never masked and is left out of the token count
  /// (bd3lms `algo.ignore_bos=True`). Autoregressive scorers never score position 0 anyway.
  public var ignoreBOS: Bool
  /// The split the preset's papers evaluate (SEDD/RADD: test); nil: each task's reference split. `--split` overrides it.
  public var split: String?

  public init(
    name: String, summary: String, blockLength: Int, insertDocumentEOS: Bool, frameBlocks: Bool,
    bos: Int32 = BlockProtocol.gpt2EndOfText, eos: Int32 = BlockProtocol.gpt2EndOfText, batchSize: Int?,
    headline: String, ignoreBOS: Bool = false, split: String? = nil
  ) {
    precondition(blockLength > (frameBlocks ? 2 : 0), "a block needs at least one content token")
    precondition(batchSize.map { $0 >= 1 } ?? true, "batch size must be at least 1")
    precondition([Self.tokenWeighted, Self.blockMean].contains(headline), "unknown headline aggregation \(headline)")
    self.name = name
    self.summary = summary
    self.blockLength = blockLength
    self.insertDocumentEOS = insertDocumentEOS
    self.frameBlocks = frameBlocks
    self.bos = bos
    self.eos = eos
    self.batchSize = batchSize
    self.headline = headline
    self.ignoreBOS = ignoreBOS
    self.split = split
  }

  /// Example tokens per block: the block length less the frame.
  public var contentLength: Int { blockLength - (frameBlocks ? 2 : 0) }

  /// LTM paper (`sampling/zero-shot-ppl/utils_ppl_0shot_update.py`): HF `run_clm` `group_texts`.
  public static let ltm = BlockProtocol(
    name: "ltm",
    summary: "LTM paper: EOS after every example, no BOS, plain 1024-token blocks, remainder dropped per 1000 examples; headline = mean of per-block PPL",
    blockLength: 1024, insertDocumentEOS: true, frameBlocks: false, batchSize: 1000, headline: blockMean)

  /// MDLM paper (`dataloader.py::_group_texts` with `wrap: True`).
  public static let mdlm = BlockProtocol(
    name: "mdlm",
    summary: "MDLM paper: EOS after every example, blocks [EOS]+1022 tokens+[EOS], remainder dropped per 1000 examples; headline = token-weighted PPL",
    blockLength: 1024, insertDocumentEOS: true, frameBlocks: true, batchSize: 1000, headline: tokenWeighted)

  /// bd3lms `scripts/zs_ppl/*.sh` (what the MDLM author points to, mdlm#22): `insert_valid_eos=False` (no EOS
  /// between documents), blocks still framed [BOS]+1022+[EOS], and `ignore_bos`: BOS never masked, not counted.
  public static let bd3lm = BlockProtocol(
    name: "bd3lm",
    summary: "bd3lms zs_ppl scripts: no EOS between examples, blocks [EOS]+1022 tokens+[EOS], BOS never masked and not counted (diffusion), remainder dropped per 1000 examples; headline = token-weighted PPL",
    blockLength: 1024, insertDocumentEOS: false, frameBlocks: true, batchSize: 1000, headline: tokenWeighted, ignoreBOS: true)

  /// SEDD/RADD (`data.py::group_texts`, `evaluation_modeling.py`): EOS after every example, no BOS, plain 1024-token
  /// blocks, the test split. PPL = exp(mean over blocks of Σ loss / 1024), i.e. token-weighted for equal blocks.
  public static let sedd = BlockProtocol(
    name: "sedd",
    summary: "SEDD/RADD: EOS after every example, no BOS, plain 1024-token blocks, remainder dropped per 1000 examples, test split; headline = token-weighted PPL",
    blockLength: 1024, insertDocumentEOS: true, frameBlocks: false, batchSize: 1000, headline: tokenWeighted, split: "test")

  public static let presets: [BlockProtocol] = [ltm, mdlm, bd3lm, sedd]
  public static let names = presets.map(\.name)

  public static func named(_ name: String) throws -> BlockProtocol {
    guard let preset = presets.first(where: { $0.name == name }) else {
      throw TaskError.unknownProtocol(name: name, known: names)
    }
    return preset
  }

  /// Cuts tokenized examples (ids without EOS) into blocks: per batch of `batchSize` examples, concatenate
  /// (with an EOS after each example when `insertDocumentEOS`), keep the largest multiple of `contentLength`,
  /// cut, and frame each cut when `frameBlocks`. `limit` keeps the first blocks only; `source` names the data
  /// in the error thrown when no block results.
  public func makeBlocks(examples: [[Int32]], limit: Int?, source: String) throws -> TokenBlocks {
    if let limit, limit < 1 { throw TaskError.invalidLimit(limit) }
    let content = contentLength
    let batch = batchSize ?? max(examples.count, 1)
    let total = examples.reduce(0) { $0 + $1.count } + (insertDocumentEOS ? examples.count : 0)
    var out: [Int32] = []
    out.reserveCapacity(min(limit ?? Int.max, total / content) * blockLength)
    var streamTokens = 0
    var concatenated: [Int32] = []
    var blocks = 0
    batches: for start in stride(from: 0, to: examples.count, by: batch) {
      concatenated.removeAll(keepingCapacity: true)
      for example in examples[start..<min(start + batch, examples.count)] {
        concatenated.append(contentsOf: example)
        if insertDocumentEOS { concatenated.append(eos) }
      }
      streamTokens += concatenated.count
      let kept = concatenated.count / content * content
      for offset in stride(from: 0, to: kept, by: content) {
        if let limit, blocks == limit { break batches }
        if frameBlocks { out.append(bos) }
        out.append(contentsOf: concatenated[offset..<(offset + content)])
        if frameBlocks { out.append(eos) }
        blocks += 1
      }
    }
    guard blocks > 0 else {
      throw TaskError.noBlocks(source: source, protocolName: name, tokens: streamTokens, blockLength: blockLength)
    }
    return TokenBlocks(blockLength: blockLength, tokens: out)
  }
}
