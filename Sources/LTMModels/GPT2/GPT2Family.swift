import Foundation

/// GPT-2 in the Hugging Face layout (`config.json` with `model_type: gpt2`, safetensors or `pytorch_model.bin`).
public enum GPT2Family: ModelFamily {
  public static let name = "gpt2"
  public static let displayName = "GPT-2"
  public static let modelTypes: Set<String> = ["gpt2"]

  public static func load(_ checkpoint: CheckpointCandidate) throws -> (BlockScoringModel, [URL]) {
    let directory = checkpoint.directory
    let configData = checkpoint.configData ?? Data()
    let config = try ModelRegistry.decodeConfig(GPT2Config.self, from: configData, path: checkpoint.configURL.path)
    let (archive, files) = try WeightFiles.load(directory: directory)
    return (try GPT2Model(config: config, weights: archive, source: directory.path), [checkpoint.configURL] + files)
  }
}
