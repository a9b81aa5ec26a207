import Foundation
import LTMDownload

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
