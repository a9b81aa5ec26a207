import Foundation

/// The option groups a command may pass to every model; a family reads the groups it lists in `acceptedOptions`, and
/// the harness rejects a group that no loaded model reads (silently ignoring `--inference-steps 64` on a GPT-2-only
/// run would mislabel what was measured).
public enum ModelOptionGroup: String, Sendable, CaseIterable {
  /// Posterior inference over latent thoughts: steps, fast lr, initialisation, ELBO samples, fits.
  case latentInference
  /// The diffusion NELBO's Monte Carlo draws (`--time-samples`, `--time-strata`).
  case diffusionBound
  /// Reverse-process sampling of a diffusion model (`--steps`).
  case diffusionSampling
}

/// A checkpoint as the user named it: a file or a directory, and the `config.json` a Hugging Face folder holds.
public struct CheckpointCandidate: Sendable {
  public var path: URL
  public var isDirectory: Bool
  /// The folder the checkpoint lives in (the path itself for a directory): config, tokenizer and weights are there.
  public var directory: URL { isDirectory ? path : path.deletingLastPathComponent() }
  /// Lower-cased extension of a file ("pt", "ckpt"); empty for a directory.
  public var fileExtension: String { isDirectory ? "" : path.pathExtension.lowercased() }
  public var configURL: URL { directory.appendingPathComponent("config.json") }

  /// The bytes of `config.json` beside the checkpoint, or nil when there is none: read once, for detection and loading.
  public let configData: Data?

  public init(path: URL, isDirectory: Bool) {
    self.path = path
    self.isDirectory = isDirectory
    configData = FileManager.default.contents(atPath: (isDirectory ? path : path.deletingLastPathComponent()).appendingPathComponent("config.json").path)
  }
}

/// One model family behind one registry line (`ModelRegistry.families`): how its checkpoints are recognised, how
/// they load, what messages call it and which option groups its models read. Everything else a family offers is a
/// capability protocol its model type adopts in the family's own folder (`ZeroShotScoring`, `FewShotCapable`,
/// `ContinuationGenerating`, `TextFeaturizing`).
public protocol ModelFamily {
  /// Registry key and report label ("gpt2", "ltm", "mdlm").
  static var name: String { get }
  /// How error messages name the family ("GPT-2", "LTM", "MDLM").
  static var displayName: String { get }
  /// `config.json` `model_type` values of a Hugging Face folder in this family's layout.
  static var modelTypes: Set<String> { get }
  /// Extensions of the single-file checkpoints the family's authors write (`torch.save` files, Lightning `.ckpt`).
  static var fileExtensions: Set<String> { get }
  static var acceptedOptions: Set<ModelOptionGroup> { get }
  /// A layout the family recognises by its files rather than by an extension or `model_type` (a training run's
  /// folder, a `config.json` without `model_type`); asked before either. Default: none.
  static func recognizes(_ checkpoint: CheckpointCandidate) -> Bool
  /// The model and every file it was read from (for provenance digests), `config.json` included.
  static func load(_ checkpoint: CheckpointCandidate) throws -> (BlockScoringModel, [URL])
}

extension ModelFamily {
  public static func recognizes(_ checkpoint: CheckpointCandidate) -> Bool { false }
  public static var fileExtensions: Set<String> { [] }
  public static var acceptedOptions: Set<ModelOptionGroup> { [] }
}
