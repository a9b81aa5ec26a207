import Foundation

/// Latent Thought Models: the authors' `torch.save` training checkpoints (`ckpt_*.pt`, read natively, tokenizer files
/// beside them) and the converted Hugging Face layout (`config.json` {"model_type": "ltm", "model_args", "config"}).
public enum LTMFamily: ModelFamily {
  public static let name = "ltm"
  public static let displayName = "LTM"
  public static let modelTypes: Set<String> = ["ltm"]
  public static let fileExtensions: Set<String> = ["pt", "pth"]
  public static let acceptedOptions: Set<ModelOptionGroup> = [.latentInference]

  public static func load(_ checkpoint: CheckpointCandidate) throws -> (BlockScoringModel, [URL]) {
    if !checkpoint.isDirectory, fileExtensions.contains(checkpoint.fileExtension) {
      return (try LTMModel.load(checkpoint: checkpoint.path), [checkpoint.path])
    }
    let (model, files) = try LTMModel.load(directory: checkpoint.directory)
    return (model, [checkpoint.configURL] + files)
  }
}
