import Foundation

/// SEDD in the two layouts its authors write: a `SEDD.save_pretrained` folder (`config.json` holding the run config,
/// with its `graph` and `noise` sections and no `model_type`; `model.safetensors` or `pytorch_model.bin`) and a
/// training run (`.hydra/config.yaml` + `checkpoints-meta/checkpoint.pth`, given as the run folder or as the `.pth`).
public enum SEDDFamily: ModelFamily {
  public static let name = "sedd"
  public static let displayName = "SEDD"
  public static let modelTypes: Set<String> = ["sedd"]
  public static let acceptedOptions: Set<ModelOptionGroup> = [.diffusionBound, .diffusionSampling]

  public static func recognizes(_ checkpoint: CheckpointCandidate) -> Bool {
    runDirectory(of: checkpoint) != nil || isPretrainedConfig(checkpoint.configData)
  }

  public static func load(_ checkpoint: CheckpointCandidate) throws -> (BlockScoringModel, [URL]) {
    if let run = runDirectory(of: checkpoint) { return try SEDDModel.load(run: run) }
    return try SEDDModel.load(directory: checkpoint.directory, configData: checkpoint.configData ?? Data())
  }

  /// The run folder of a training run: the folder itself, or the folder above `checkpoints-meta/checkpoint.pth`.
  static func runDirectory(of checkpoint: CheckpointCandidate) -> URL? {
    let fm = FileManager.default
    let run = checkpoint.isDirectory
      ? checkpoint.path
      : (checkpoint.directory.lastPathComponent == "checkpoints-meta" ? checkpoint.directory.deletingLastPathComponent() : nil)
    guard let run, fm.fileExists(atPath: run.appendingPathComponent(".hydra/config.yaml").path),
          fm.fileExists(atPath: run.appendingPathComponent("checkpoints-meta/checkpoint.pth").path) else { return nil }
    return run
  }

  /// `save_pretrained`'s config.json: the run config itself, no `model_type`, with `tokens`, `model`, `graph`, `noise`.
  static func isPretrainedConfig(_ data: Data?) -> Bool {
    guard let data, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["model_type"] == nil
    else { return false }
    return ["tokens", "model", "graph", "noise"].allSatisfy { object[$0] != nil }
  }
}
