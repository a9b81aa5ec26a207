import Foundation
import LTMDownload
import LTMModels
import LTMReports
import LTMTokenizer

/// Table labels for models, shared by every command's reports.
enum ModelLabels {
  /// The checkpoint folder's name (a hub download: the repository's name, `@revision` unless main), or `folder/file` for a checkpoint file (`ltm-s/ckpt.pt`: the file name alone
  /// says little), suffixed `#n` (the model's 1-based position) when another model already has the label.
  static func unique(for path: URL, index: Int, taken: [String]) -> String {
    let url = path.standardizedFileURL
    var isDirectory: ObjCBool = false
    FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
    var base = isDirectory.boolValue ? url.lastPathComponent : url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent
    // A hub download (models/{owner}/{name}/{revision}/): the repository's name, not the revision folder's.
    if isDirectory.boolValue, let hub = HubClient.downloadedReference(in: url) {
      base = hub.revision == "main" ? hub.name : "\(hub.name)@\(hub.revision)"
    }
    return taken.contains(base) ? "\(base)#\(index + 1)" : base
  }
}

/// What every command records about a loaded checkpoint: its table label, file digests, tokenizer and cache key.
struct CheckpointProvenance {
  var id: String
  var digests: [LTMReports.FileDigest]
  var tokenizer: GPT2Tokenizer
  /// The tokenizer folder actually used (`--tokenizer` or the model's own).
  var tokenizerDirectory: URL

  /// Labels, hashes and finds the tokenizer of `model` loaded from `path`; `configuredTokenizer` is `--tokenizer`.
  init(model: LoadedModel, path: URL, index: Int, taken: [String], configuredTokenizer: URL?, progress: ProgressReporter) throws {
    id = ModelLabels.unique(for: path, index: index, taken: taken)
    progress.report(.stage("hashing checkpoint files of \(id)"))
    let base = path.hasDirectoryPath ? path : path.deletingLastPathComponent()
    digests = try model.checkpointFiles.map { try Digests.fileDigest($0, relativeTo: base) }
    tokenizerDirectory = configuredTokenizer ?? model.tokenizerDirectory
    do {
      tokenizer = try GPT2Tokenizer.load(directory: tokenizerDirectory)
    } catch {
      if configuredTokenizer == nil { throw HarnessError.noTokenizer(model: id, directory: tokenizerDirectory.path) }
      throw error
    }
  }

  /// The checkpoint's part of every cache key: SHA-256 over the family and the checkpoint files' SHA-256s.
  func cacheKey(family: String) -> String {
    Digests.sha256(string: ([family] + digests.map(\.sha256)).joined(separator: "|"))
  }
}
