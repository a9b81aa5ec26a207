import Foundation
import LTMMauve
import LTMModels

/// `mauve.json` of the generation mode (`ltm-bench mauve --model …`, docs/mauve-schema.md "Generation mode"): the
/// protocol, the MAUVE settings, statistics of the reference continuations, and one result per model. The features
/// mode keeps `MauveDocument`; `mode` tells the two apart.
public struct MauveGenerationDocument: Codable, Sendable {
  /// The same `run` object as the features mode writes.
  public typealias Run = MauveDocument.Run
  public struct ProtocolSettings: Codable, Sendable {
    public var prompts: String
    public var split: String?
    public var prefixTokens: Int
    public var newTokens: Int
    public var samplesPerPrompt: Int
    public var promptsUsed: Int
    public var featurizer: String
    public var scorer: String?
    public var sampling: SamplingSettings
    public var seed: UInt64
    public var ltmSteps: Int?
    public var ltmLearningRate: Double?
    /// MDLM ancestral-sampling settings (`--mdlm-steps`); absent when no MDLM checkpoint generated.
    /// The diffusion sampling options as given (`--steps`, `--no-noise-removal`, `--predictor`), when a model read them.
    public var diffusionSampling: DiffusionSamplingOptions?
    public var featuresOf = "continuation tokens only (prefix excluded), final ln_f hidden state at the last token"
    enum CodingKeys: String, CodingKey {
      case prompts, split, prefixTokens = "prefix_tokens", newTokens = "new_tokens", samplesPerPrompt = "samples_per_prompt"
      case promptsUsed = "prompts_used", featurizer, scorer, sampling, seed, ltmSteps = "ltm_steps"
      case ltmLearningRate = "ltm_learning_rate", diffusionSampling = "diffusion_sampling", featuresOf = "features_of"
    }
  }
  public struct MauveSettingsSummary: Codable, Sendable {
    public var numBucketsRequested: String
    public var explainedVariance: Double
    public var kmeansRestarts: Int
    public var kmeansIterations: Int
    public var seed: Int
    public var seeds: [Int]
    public var scalingFactor: Double
    public var curvePoints: Int
    enum CodingKeys: String, CodingKey {
      case numBucketsRequested = "num_buckets_requested", explainedVariance = "explained_variance"
      case kmeansRestarts = "kmeans_restarts", kmeansIterations = "kmeans_iterations", seed, seeds
      case scalingFactor = "scaling_factor", curvePoints = "curve_points"
    }
  }
  /// Diversity of a set of token sequences (`GenerationMetrics`).
  public struct TextStatistics: Codable, Sendable {
    public var unigramEntropy: Double
    public var distinct1: Double
    public var distinct2: Double
    public var distinct3: Double
    public var repetitionRate: Double
    enum CodingKeys: String, CodingKey {
      case unigramEntropy = "unigram_entropy", distinct1 = "distinct_1", distinct2 = "distinct_2", distinct3 = "distinct_3"
      case repetitionRate = "repetition_rate"
    }
  }
  public struct GenerativePerplexity: Codable, Sendable {
    public var scorer: String
    /// exp(Σ NLL / Σ tokens) over every continuation token, given its prefix.
    public var tokenWeighted: Double
    /// Mean over samples of exp(mean NLL of the sample).
    public var meanOfSamples: Double
    public var scoredTokens: Int
    enum CodingKeys: String, CodingKey {
      case scorer, tokenWeighted = "token_weighted", meanOfSamples = "mean_of_samples", scoredTokens = "scored_tokens"
    }
  }
  public struct Excerpt: Codable, Sendable {
    public var prefix: String
    public var generation: String
  }
  public struct ModelResult: Codable, Sendable {
    public var model: String
    public var label: String
    public var family: String
    /// The token the model saw before each prompt (LTM: `<|beginoftext|>` 50257; MDLM with the GPT-2 vocabulary:
    /// the document-start `<|endoftext|>` 50256; GPT-2: none, absent).
    public var promptBOS: Int32?
    /// How a diffusion model sampled (rule, steps, denoising), in its family's words; nil for autoregressive decoding.
    public var sampler: String?
    public var samples: Int
    /// Scores at the first k-means seed.
    public var scores: MauveDocument.Scores
    public var seedSummary: MauveSeedSummary
    public var numBuckets: Int
    public var pcaDims: Int
    public var histograms: MauveDocument.Histograms
    public var divergenceCurve: [[Double]]
    public var generativePerplexity: GenerativePerplexity?
    public var text: TextStatistics
    /// File beside mauve.json with every prompt, reference and generation.
    public var samplesFile: String?
    public var excerpts: [Excerpt]
    enum CodingKeys: String, CodingKey {
      case model, label, family, promptBOS = "prompt_bos", sampler, samples, scores, seedSummary = "seed_summary", numBuckets = "num_buckets"
      case pcaDims = "pca_dims", histograms, divergenceCurve = "divergence_curve"
      case generativePerplexity = "generative_perplexity", text, samplesFile = "samples_file", excerpts
    }
  }

  public var schemaVersion = MauveDocument.schemaVersion
  public var command = "mauve"
  public var mode = "generation"
  public var tool = MauveDocument.Tool()
  public var run: Run
  public var protocolSettings: ProtocolSettings
  public var mauveSettings: MauveSettingsSummary
  /// Statistics of the true continuations (what the models' should resemble).
  public var reference: TextStatistics
  public var results: [ModelResult]

  enum CodingKeys: String, CodingKey {
    case schemaVersion = "schema_version", command, mode, tool, run, protocolSettings = "protocol"
    case mauveSettings = "mauve_settings", reference, results
  }

  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try encoder.encode(self)
  }
}
