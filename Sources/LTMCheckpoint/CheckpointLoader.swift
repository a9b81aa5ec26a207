import Foundation

/// One entry point for "the tensors of this checkpoint", whatever its format.
///
/// Model loaders should not each re-implement the Hugging Face directory conventions or guess a format from a file
/// name, so this resolves a path once, in a fixed order of preference, and reports what it looked for when nothing
/// fits.
public enum CheckpointLoader {
  /// `pytorch_model.bin`, the single-file torch.save name `save_pretrained` writes.
  public static let torchSingleFileName = "pytorch_model.bin"
  /// Its sharded index.
  public static let torchIndexFileName = "pytorch_model.bin.index.json"

  /// Loads every tensor of the checkpoint at `url`.
  ///
  /// - A directory: `model.safetensors`, else `model.safetensors.index.json` (shards), else `pytorch_model.bin`,
  ///   else `pytorch_model.bin.index.json` (torch shards), the first that exists.
  /// - A `*.safetensors` file: read directly. A `*.index.json` file: the shards it names (safetensors or torch, by
  ///   the index's own name).
  /// - Any other file is taken as a torch.save archive (`.pt`, `.pth`, `.bin`), and its state dict is returned:
  ///   the entry `stateDictKey` when given, else the top level if it is a dict of tensors, else its `"model"` or
  ///   `"state_dict"` entry (see `TorchCheckpoint.loadStateDict`).
  ///
  /// `files` lists every file the tensors came from, for provenance hashes.
  public static func load(_ url: URL, stateDictKey: String? = nil) throws -> TensorArchive {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
      throw CheckpointError.unreadable(path: url.path, reason: "no such file or directory")
    }
    if isDirectory.boolValue {
      for name in [Safetensors.singleFileName, Safetensors.indexFileName, torchSingleFileName, torchIndexFileName] {
        let candidate = url.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: candidate.path) { return try load(candidate, stateDictKey: stateDictKey) }
      }
      throw CheckpointError.unreadable(
        path: url.path,
        reason: "no \(Safetensors.singleFileName), \(Safetensors.indexFileName), \(torchSingleFileName) "
          + "or \(torchIndexFileName) in the directory")
    }
    let name = url.lastPathComponent
    if name.hasSuffix(".safetensors") { return try Safetensors.load(url) }
    if name.hasSuffix(".safetensors.index.json") { return try Safetensors.loadSharded(index: url) }
    if name.hasSuffix(".index.json") {
      return try ShardIndex.load(url) { shard in try TorchCheckpoint.loadStateDict(shard, key: stateDictKey) }
    }
    return try TorchCheckpoint.loadStateDict(url, key: stateDictKey)
  }
}
