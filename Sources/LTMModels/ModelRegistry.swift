import Foundation
import LTMCheckpoint

/// A model ready to score, with the files it came from (for provenance) and where its tokenizer lives.
public struct LoadedModel {
  public var model: BlockScoringModel
  public var checkpointFiles: [URL]
  public var tokenizerDirectory: URL
}

/// Maps a checkpoint directory or file to its family, config and loader. (Stub.)
public enum ModelRegistry {
  public static func load(path: URL) throws -> LoadedModel {
    throw CheckpointError.unreadable(path: path.path, reason: "not implemented")
  }
}
