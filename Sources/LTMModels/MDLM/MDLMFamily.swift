import Foundation

/// MDLM: the Hugging Face layout (kuleshov-group/mdlm-owt: `config.json` + `model.safetensors` with `backbone.*`
/// keys) and the authors' Lightning checkpoints (`.ckpt`, EMA weights preferred, config beside it or inside).
public enum MDLMFamily: ModelFamily {
  public static let name = "mdlm"
  public static let displayName = "MDLM"
  public static let modelTypes: Set<String> = ["mdlm"]
  public static let fileExtensions: Set<String> = ["ckpt"]
  public static let acceptedOptions: Set<ModelOptionGroup> = [.diffusionBound, .diffusionSampling]

  public static func load(_ checkpoint: CheckpointCandidate) throws -> (BlockScoringModel, [URL]) {
    if !checkpoint.isDirectory, fileExtensions.contains(checkpoint.fileExtension) {
      return (try MDLMModel.load(lightningCheckpoint: checkpoint.path).0, [checkpoint.path])
    }
    let (model, files) = try MDLMModel.load(directory: checkpoint.directory, configData: checkpoint.configData ?? Data())
    return (model, [checkpoint.configURL] + files)
  }
}
