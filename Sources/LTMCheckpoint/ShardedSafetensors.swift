import Foundation
import LTMPaths

/// Hugging Face sharded checkpoints and checkpoint directories.
///
/// Large models are saved as `model-00001-of-0000N.safetensors` shards plus `model.safetensors.index.json`, whose
/// `weight_map` names the shard of every tensor. The index is the contract: a tensor it lists must be in that shard,
/// no tensor may appear in two shards, and every shard it names must exist. A mismatch means a broken upload or
/// conversion, so it is an error rather than something to paper over.
extension Safetensors {
  /// The index file name `save_pretrained` writes.
  public static let indexFileName = "model.safetensors.index.json"
  /// The single-file name `save_pretrained` writes.
  public static let singleFileName = "model.safetensors"

  /// Loads a sharded checkpoint from its `model.safetensors.index.json`.
  ///
  /// Returns one archive with every tensor. `files` lists the shards (sorted by name). `metadata` holds the index's
  /// `metadata` entries (numbers written in decimal), then any shard `__metadata__` keys not already present.
  public static func loadSharded(index url: URL) throws -> TensorArchive {
    try ShardIndex.load(url, loadShard: load)
  }

  /// Loads the safetensors checkpoint in a Hugging Face model directory: `model.safetensors` if present,
  /// otherwise the shards listed by `model.safetensors.index.json`.
  public static func loadDirectory(_ directory: URL) throws -> TensorArchive {
    let single = directory.appendingPathComponent(singleFileName)
    if FileManager.default.fileExists(atPath: single.path) { return try load(single) }
    let index = directory.appendingPathComponent(indexFileName)
    if FileManager.default.fileExists(atPath: index.path) { return try loadSharded(index: index) }
    throw CheckpointError.unreadable(path: directory.path, reason: "the directory has neither \(singleFileName) nor \(indexFileName)")
  }
}

/// A Hugging Face shard index (`model.safetensors.index.json`, `pytorch_model.bin.index.json`): `weight_map` names the
/// shard of every tensor.
enum ShardIndex {
  /// Loads every shard named by the index at `url` with `loadShard` and merges them, enforcing the index.
  static func load(_ url: URL, loadShard: (URL) throws -> TensorArchive) throws -> TensorArchive {
    let path = url.path
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw CheckpointError.unreadable(path: path, reason: "cannot read the shard index (\(error.localizedDescription))")
    }
    guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw CheckpointError.malformedHeader(path: path, reason: "the shard index is not a JSON object")
    }
    guard let weightMap = root["weight_map"] as? [String: Any] else {
      throw CheckpointError.malformedHeader(path: path, reason: "the shard index has no \"weight_map\" object")
    }
    var shardOf: [String: String] = [:]
    for (tensor, value) in weightMap {
      guard let shard = value as? String else {
        throw CheckpointError.badTensor(path: path, tensor: tensor, reason: "weight_map entry is not a file name")
      }
      try checkShardName(shard, index: path, tensor: tensor)
      shardOf[tensor] = shard
    }

    var metadata: [String: String] = [:]
    if let indexMetadata = root["metadata"] as? [String: Any] {
      for (key, value) in indexMetadata { metadata[key] = "\(value)" }
    }

    let directory = url.deletingLastPathComponent()
    let shardNames = Set(shardOf.values).sorted()
    var tensors: [String: RawTensor] = [:]
    var foundIn: [String: String] = [:]
    var files: [URL] = []
    for shard in shardNames {
      let shardURL = directory.appendingPathComponent(shard)
      guard FileManager.default.fileExists(atPath: shardURL.path) else {
        throw CheckpointError.unreadable(path: shardURL.path, reason: "shard named in \(path) does not exist")
      }
      let archive = try loadShard(shardURL)
      files.append(shardURL)
      for (name, tensor) in archive.tensors {
        if let other = foundIn[name] {
          throw CheckpointError.badTensor(path: path, tensor: name, reason: "appears in two shards, \(other) and \(shard)")
        }
        foundIn[name] = shard
        guard let listed = shardOf[name] else {
          throw CheckpointError.badTensor(path: shardURL.path, tensor: name, reason: "is not listed in the weight_map of \(path)")
        }
        guard listed == shard else {
          throw CheckpointError.badTensor(path: path, tensor: name, reason: "weight_map places it in \(listed), but it is in \(shard)")
        }
        tensors[name] = tensor
      }
      for (key, value) in archive.metadata where metadata[key] == nil { metadata[key] = value }
    }
    let missing = shardOf.keys.filter { tensors[$0] == nil }.sorted()
    if let first = missing.first {
      throw CheckpointError.badTensor(
        path: path, tensor: first,
        reason: "is missing from its shard \(shardOf[first]!)"
          + (missing.count > 1 ? " (and \(missing.count - 1) more tensors are missing)" : ""))
    }
    return TensorArchive(tensors: tensors, metadata: metadata, files: files)
  }

  /// Shard names are file names beside the index; an absolute path or `..` would read outside the checkpoint.
  private static func checkShardName(_ shard: String, index: String, tensor: String) throws {
    do {
      _ = try RelativePath(validating: shard)
    } catch {
      throw CheckpointError.badTensor(path: index, tensor: tensor, reason: "weight_map names an unsafe shard path: \(error)")
    }
  }
}
